"""Item statistics over a campaign's submitted attempts: how each question performs.

Facility is the share of answers that were right. Discrimination is the corrected
point-biserial correlation between getting the question right (1/0) and the rest of the
paper's score (the attempt's score without this question's points), so a question does
not correlate with itself. A negative value, or a wrong option chosen more often than the
key, is what a wrong key looks like; both are flagged once enough people have answered.

Everything comes from two grouped queries, whatever the number of questions or attempts.
"""
import json
import math
from dataclasses import dataclass, field

from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, AttemptStatus, Question, QuestionVersion

MIN_ANSWERS_FOR_FLAGS = 20


@dataclass
class ItemStat:
    question: Question
    drawn: int = 0
    answered: int = 0
    correct: int = 0
    discrimination: float | None = None
    key_picks: dict[str, int] = field(default_factory=dict)  # option key → times ticked as right
    wrong_picks: dict[str, int] = field(default_factory=dict)  # option key → times ticked wrongly
    flags: list[str] = field(default_factory=list)

    @property
    def facility(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def top_wrong(self) -> tuple[str, int] | None:
        """The most chosen wrong option (in the question's own keys) and how often."""
        if not self.wrong_picks:
            return None
        return max(self.wrong_picks.items(), key=lambda item: (item[1], -ord(item[0][0])))

    def option_text(self, key: str) -> str:
        version = self.question.current_version
        return next((o["text"] for o in version.options if o["key"] == key), "") if version else ""


@dataclass
class _Sums:
    """Running sums for one question: x = answered right (0/1), y = rest-of-paper score."""

    n: int = 0
    x: int = 0
    y: int = 0
    yy: int = 0
    xy: int = 0

    def correlation(self) -> float | None:
        spread = (self.n * self.x - self.x * self.x) * (self.n * self.yy - self.y * self.y)
        if self.n < 2 or spread <= 0:
            return None  # everyone right, everyone wrong, or every rest score alike
        return (self.n * self.xy - self.x * self.y) / math.sqrt(spread)


def item_statistics(campaign_id: int, min_answers: int = MIN_ANSWERS_FOR_FLAGS) -> list[ItemStat]:
    """Statistics of every question drawn in the campaign's submitted attempts, flagged first."""
    rest_score = Attempt.score - AttemptQuestion.points_awarded
    # AttemptQuestion.chosen holds the question's own option keys (the shuffled display order
    # is only in option_order), sorted, so equal choices group together as the same text.
    chosen_text = db.cast(AttemptQuestion.chosen, db.Text)
    groups = db.session.execute(
        db.select(AttemptQuestion.question_version_id, chosen_text, AttemptQuestion.is_correct,
                  db.func.count(), db.func.sum(rest_score), db.func.sum(rest_score * rest_score))
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.campaign_id == campaign_id, Attempt.status == AttemptStatus.SUBMITTED)
        .group_by(AttemptQuestion.question_version_id, chosen_text, AttemptQuestion.is_correct)
    ).all()
    version_ids = {row[0] for row in groups}
    versions = {version.id: version for version in db.session.scalars(
        db.select(QuestionVersion).where(QuestionVersion.id.in_(version_ids))
        .options(db.joinedload(QuestionVersion.question).joinedload(Question.current_version))
    )} if version_ids else {}

    stats: dict[int, ItemStat] = {}
    sums: dict[int, _Sums] = {}
    for version_id, chosen_json, is_correct, count, y_sum, yy_sum in groups:
        version = versions[version_id]
        stat = stats.setdefault(version.question_id, ItemStat(question=version.question))
        stat.drawn += count
        for key in version.answer:  # a key nobody ticked still counts, with 0
            stat.key_picks.setdefault(key, 0)
        chosen = json.loads(chosen_json) if chosen_json else None
        if not chosen:  # never answered (NULL, JSON null or an empty list)
            continue
        stat.answered += count
        stat.correct += count if is_correct else 0
        totals = sums.setdefault(version.question_id, _Sums())
        totals.n += count
        totals.y += int(y_sum)
        totals.yy += int(yy_sum)
        if is_correct:
            totals.x += count
            totals.xy += int(y_sum)
        for key in chosen:
            picks = stat.key_picks if key in version.answer else stat.wrong_picks
            picks[key] = picks.get(key, 0) + count

    for question_id, stat in stats.items():
        if question_id in sums:
            stat.discrimination = sums[question_id].correlation()
        if stat.answered >= min_answers:
            stat.flags = review_flags(stat)
    return sorted(stats.values(), key=lambda s: (not s.flags, s.discrimination is None,
                                                 s.discrimination or 0.0, s.question.key))


def review_flags(stat: ItemStat) -> list[str]:
    """Why a question needs a look: the signs of a wrong key or a misleading option."""
    flags = []
    if stat.discrimination is not None and stat.discrimination < 0:
        flags.append("区分度为负：答对这题的人其余题目得分反而更低")
    top = stat.top_wrong
    least_key = min(stat.key_picks.values(), default=0)
    if top is not None and top[1] > least_key:
        flags.append(f"错误选项 {top[0]} 被选的次数（{top[1]}）多于正确答案（{least_key}）：请核对答案")
    return flags
