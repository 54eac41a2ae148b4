"""Learning rules as plain functions: topics, who is studying, the 错题本, the practice draw."""
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_

from quiz.extensions import db
from quiz.grading import award_points
from quiz.models import Attempt, AttemptQuestion, AttemptStatus, Question, QuestionVersion
from quiz.models.learn import PracticeAnswer
from quiz.timeutil import as_utc


@dataclass(frozen=True)
class Learner:
    """Whoever studies on this phone: the registered participant, else just the phone."""

    device_key: str
    participant_id: int | None = None

    def owns(self, answer: PracticeAnswer) -> bool:
        """True when a practice answer is this learner's, as the 错题本 counts it."""
        if answer.participant_id is not None:
            return answer.participant_id == self.participant_id
        return answer.device_key == self.device_key


@dataclass(frozen=True)
class Outcome:
    """The latest answer a learner gave to one question, in practice or in a submitted paper."""

    is_correct: bool
    answered_at: datetime
    in_quiz: bool


def available_questions():
    """Questions a resident may study: enabled, still in the bank, with a current version."""
    return db.select(Question).where(
        Question.is_enabled, Question.is_retired.is_(False),
        Question.current_version_id.is_not(None))


def topics() -> list[tuple[str, int]]:
    """Every category with studyable questions and how many, largest first."""
    count = db.func.count(Question.id)
    rows = db.session.execute(
        available_questions().with_only_columns(Question.category, count)
        .group_by(Question.category).order_by(count.desc(), Question.category))
    return [(category, total) for category, total in rows]


def practice_answers_of(learner: Learner):
    """The learner's practice answers. Answers given on this phone before the person
    registered carry no participant and still count as theirs; another person's never do."""
    mine = and_(PracticeAnswer.participant_id.is_(None),
                PracticeAnswer.device_key == learner.device_key)
    if learner.participant_id is not None:
        mine = or_(PracticeAnswer.participant_id == learner.participant_id, mine)
    return db.select(PracticeAnswer.question_id, PracticeAnswer.is_correct,
                     PracticeAnswer.answered_at).where(mine)


def latest_outcomes(learner: Learner) -> dict[int, Outcome]:
    """Each question's latest answer by this learner, from practice and submitted papers.

    A person answers a few hundred questions at most, so merging in Python stays cheap
    and reads the same on SQLite and PostgreSQL.
    """
    answers = [(question_id, is_correct, as_utc(at), False)
               for question_id, is_correct, at in db.session.execute(practice_answers_of(learner))]
    if learner.participant_id is not None:
        # Only submitted papers: an open paper's questions must not reveal their keys.
        quiz_rows = db.session.execute(
            db.select(QuestionVersion.question_id, AttemptQuestion.is_correct, Attempt.submitted_at)
            .join(AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
            .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
            .where(Attempt.participant_id == learner.participant_id,
                   Attempt.status == AttemptStatus.SUBMITTED))
        answers += [(question_id, bool(is_correct), as_utc(at), True)
                    for question_id, is_correct, at in quiz_rows]
    outcomes: dict[int, Outcome] = {}
    for question_id, is_correct, at, in_quiz in sorted(answers, key=lambda row: row[2]):
        outcomes[question_id] = Outcome(is_correct, at, in_quiz)
    return outcomes


def mistakes(learner: Learner, outcomes: dict[int, Outcome] | None = None) -> list[Question]:
    """The 错题本: studyable questions whose latest answer was wrong, most recent first."""
    outcomes = latest_outcomes(learner) if outcomes is None else outcomes
    wrong = {question_id: outcome for question_id, outcome in outcomes.items()
             if not outcome.is_correct}
    if not wrong:
        return []
    questions = db.session.scalars(available_questions().where(Question.id.in_(wrong))).all()
    return sorted(questions, key=lambda question: (wrong[question.id].answered_at, question.id),
                  reverse=True)


def pick_practice_question(learner: Learner, category: str, rng: random.Random,
                           outcomes: dict[int, Outcome] | None = None) -> Question | None:
    """Draw the next practice question of a topic.

    Questions never answered come first, then the ones last answered wrong, then the
    rest, longest ago first; the question just answered is not drawn again straight away
    unless it is the topic's only one.
    """
    outcomes = latest_outcomes(learner) if outcomes is None else outcomes
    candidates = db.session.scalars(
        available_questions().with_only_columns(Question.id)
        .where(Question.category == category)).all()
    if not candidates:
        return None
    just_answered = max(outcomes, key=lambda question_id: outcomes[question_id].answered_at,
                        default=None)
    if len(candidates) > 1:
        candidates = [question_id for question_id in candidates if question_id != just_answered]

    def priority(question_id: int) -> tuple:
        outcome = outcomes.get(question_id)
        if outcome is None:
            return (0, rng.random())
        if not outcome.is_correct:
            return (1, rng.random())
        return (2, outcome.answered_at.timestamp())

    return db.session.get(Question, min(candidates, key=priority))


def is_right(question: Question, version: QuestionVersion, chosen: list[str]) -> bool:
    """Grade one practice answer with the quiz's own rule: all or nothing."""
    return award_points(question.qtype, version.answer, chosen, points=1) == 1


def topic_progress(category: str, outcomes: dict[int, Outcome]) -> tuple[int, int]:
    """How many of a topic's questions the learner has answered, and how many stand wrong."""
    ids = set(db.session.scalars(
        available_questions().with_only_columns(Question.id).where(Question.category == category)))
    answered = [outcomes[question_id] for question_id in ids if question_id in outcomes]
    return len(answered), sum(1 for outcome in answered if not outcome.is_correct)
