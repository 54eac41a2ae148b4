"""Drawing papers from the bank according to a campaign's rules."""
import random

from quiz.extensions import db
from quiz.models import Question, QuestionType, ScoringMode

SECTION_TYPES = ("single", "multiple", "judge", "any")

PRESETS = {
    "contest": {
        "label": "全国竞赛模式：随机5题、150秒、每天1次、每次答题为单位积分",
        "paper_sections": [{"type": "any", "category": None, "count": 5, "points": 20}],
        "time_limit_seconds": 150,
        "attempts_per_day": 1,
        "pass_mark": 60,
        "scoring_mode": ScoringMode.ACCUMULATE,
        "partial_credit": False,
    },
    "exam": {
        "label": "考试模式：20题混合题型、15分钟、取最高分",
        "paper_sections": [
            {"type": "single", "category": None, "count": 12, "points": 5},
            {"type": "multiple", "category": None, "count": 4, "points": 5},
            {"type": "judge", "category": None, "count": 4, "points": 5},
        ],
        "time_limit_seconds": 900,
        "attempts_per_day": 3,
        "pass_mark": 60,
        "scoring_mode": ScoringMode.BEST,
        "partial_credit": False,
    },
}


class PaperError(Exception):
    """The bank cannot fill the campaign's paper; the message is for the organiser."""


def draw_questions(sections: list[dict], rng: random.Random,
                   categories: list[str] | None = None) -> list[tuple[Question, int]]:
    """Pick questions for each section, least-drawn first, ties broken at random.

    Drawing the least-used questions first spreads the whole bank across the
    residents instead of showing everybody the same favourites.
    """
    picked: list[tuple[Question, int]] = []
    picked_ids: set[int] = set()
    for section in sections:
        query = db.select(Question.id, Question.times_drawn).where(
            Question.is_enabled, Question.is_retired.is_(False),
            Question.current_version_id.is_not(None))
        if section["type"] != "any":
            query = query.where(Question.qtype == QuestionType(section["type"]))
        if section.get("category"):
            query = query.where(Question.category == section["category"])
        elif categories:
            query = query.where(Question.category.in_(categories))
        candidates = [(times, rng.random(), qid) for qid, times in db.session.execute(query)
                      if qid not in picked_ids]
        if len(candidates) < section["count"]:
            raise PaperError(describe_shortage(section, len(candidates)))
        chosen_ids = [qid for _times, _tie, qid in sorted(candidates)[: section["count"]]]
        questions = {q.id: q for q in db.session.scalars(
            db.select(Question).where(Question.id.in_(chosen_ids)))}
        for qid in chosen_ids:
            picked.append((questions[qid], section["points"]))
            picked_ids.add(qid)
    return picked


def record_draws(picked: list[tuple[Question, int]]) -> None:
    """Count the draws; called just before the commit, so the rows stay locked for a moment only."""
    if picked:
        db.session.execute(db.update(Question).where(Question.id.in_([q.id for q, _ in picked]))
                           .values(times_drawn=Question.times_drawn + 1)
                           .execution_options(synchronize_session=False))


def describe_shortage(section: dict, available: int) -> str:
    kind = "各题型" if section["type"] == "any" else QuestionType(section["type"]).label
    scope = f"“{section['category']}”分类的" if section.get("category") else ""
    return f"题库中{scope}{kind}只有 {available} 道可用，组卷需要 {section['count']} 道。"


def shuffled_option_keys(question: Question, rng: random.Random) -> list[str]:
    """Shuffle choice options; true/false keeps 正确 before 错误."""
    keys = [option["key"] for option in question.current_version.options]
    if question.qtype is not QuestionType.JUDGE:
        rng.shuffle(keys)
    return keys


def validate_sections(sections) -> list[str]:
    """Return the problems with a paper composition (empty when it is usable)."""
    problems = []
    if not isinstance(sections, list) or not sections:
        return ["试卷至少要有一组题目"]
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or section.get("type") not in SECTION_TYPES:
            problems.append(f"第{number}组：题型无效")
            continue
        for name in ("count", "points"):
            value = section.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
                problems.append(f"第{number}组：{'题数' if name == 'count' else '分值'}应为 1–100 的整数")
    return problems
