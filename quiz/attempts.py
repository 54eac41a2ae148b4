"""Starting, saving and submitting attempts, and keeping the running totals in step."""
import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import Integer, bindparam, text
from sqlalchemy.exc import IntegrityError

from quiz.extensions import db
from quiz.grading import award_points, is_passing
from quiz.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Campaign,
    DailyTally,
    Participant,
)
from quiz.paper_rows import Paper
from quiz.papers import draw_questions, record_draws, shuffled_option_keys
from quiz.prepared import Prepared
from quiz.timeutil import as_utc, local_day, utcnow


class AttemptLimitReached(Exception):
    """The person has used today's attempts."""


def new_token() -> str:
    """Return an unguessable token for links and cookies."""
    return secrets.token_urlsafe(16)


def grace() -> timedelta:
    return timedelta(seconds=current_app.config["SUBMIT_GRACE_SECONDS"])


def milliseconds_left(attempt: Attempt, now: datetime | None = None) -> int:
    """Time until the attempt's deadline, never negative."""
    remaining = as_utc(attempt.deadline_at) - (now or utcnow())
    return max(0, int(remaining.total_seconds() * 1000))


def is_past_grace(attempt: Attempt, now: datetime) -> bool:
    """True once even a slow phone's submission can no longer count."""
    return now > as_utc(attempt.deadline_at) + grace()


def attempts_used_today(campaign: Campaign, participant: Participant, now: datetime) -> int:
    return db.session.scalar(
        db.select(db.func.count(Attempt.id)).where(
            Attempt.campaign_id == campaign.id, Attempt.participant_id == participant.id,
            Attempt.day == local_day(now)))


def open_attempt_of(campaign: Campaign, participant: Participant) -> Attempt | None:
    return db.session.scalar(
        db.select(Attempt).where(
            Attempt.campaign_id == campaign.id, Attempt.participant_id == participant.id,
            Attempt.status == AttemptStatus.IN_PROGRESS).order_by(Attempt.id.desc()).limit(1))


def start_or_resume(campaign: Campaign, participant: Participant,
                    now: datetime | None = None, rng: random.Random | None = None) -> Attempt:
    """Return the person's open paper, or draw a new one within today's limit."""
    now = now or utcnow()
    rng = rng or random.SystemRandom()
    current = open_attempt_of(campaign, participant)
    if current is not None:
        if not is_past_grace(current, now):
            return current
        finish_attempt(current, answers=None, now=now)
    used = attempts_used_today(campaign, participant, now)
    if used >= campaign.attempts_per_day:
        raise AttemptLimitReached
    attempt = Attempt(
        token=new_token(), campaign_id=campaign.id, participant_id=participant.id,
        unit_id=participant.unit_id, day=local_day(now), day_seq=used + 1, started_at=now,
        deadline_at=now + timedelta(seconds=campaign.time_limit_seconds),
        max_score=campaign.max_score)
    picked = draw_questions(campaign.paper_sections, rng, campaign.categories)
    for position, (question, points) in enumerate(picked, start=1):
        attempt.questions.append(AttemptQuestion(
            position=position, question_version_id=question.current_version_id,
            points=points, option_order=shuffled_option_keys(question, rng)))
    db.session.add(attempt)
    record_draws(picked)
    try:
        db.session.commit()
    except IntegrityError:
        # Two taps on 开始答题 at once: the other request drew the paper; use it.
        db.session.rollback()
        current = open_attempt_of(campaign, participant)
        if current is None:
            raise AttemptLimitReached from None
        return current
    return attempt


@dataclass
class SubmitOutcome:
    counted: bool  # False when the attempt had already been submitted
    late: bool  # True when the answers sent arrived after the time limit and its grace


def finish_attempt(attempt: Attempt | Paper, answers: dict[int, list[str]] | None,
                   now: datetime | None = None) -> SubmitOutcome:
    """Grade the attempt once and update standings and unit totals in one transaction.

    A second submission (double tap, network retry, two tabs) finds the attempt
    already claimed and changes nothing. Answers that arrive after the deadline
    plus grace are ignored; what was saved in time is graded.

    The paper is graded before anything is written; then the claim, the items' verdicts, the
    person's standing and the running totals are written in one go (``record_result``).
    ``attempt`` is an ORM Attempt or the submission's plain rows (quiz.paper_rows.Paper).
    """
    now = now or utcnow()
    campaign = attempt.campaign
    late = is_past_grace(attempt, now)
    sent = answers if answers is not None and not late else {}
    graded = []
    score = correct = 0
    for item in attempt.questions:
        chosen = sorted(sent[item.position]) if item.position in sent else item.chosen
        question = item.content
        points = award_points(question.qtype, list(question.answer), chosen, item.points,
                              campaign.partial_credit)
        graded.append({"item_id": item.id, "new_chosen": chosen, "new_points": points,
                       "new_correct": points == item.points})
        score += points
        correct += points == item.points
    deadline = as_utc(attempt.deadline_at)
    ended = min(now, deadline)
    result = {
        "attempt_id": attempt.id, "campaign_id": attempt.campaign_id,
        "participant_id": attempt.participant_id, "unit_id": attempt.unit_id,
        "max_score": attempt.max_score, "pass_mark": campaign.pass_mark,
        "score": score, "correct_count": correct,
        "is_passed": is_passing(score, campaign.pass_mark),
        "duration_ms": int((ended - as_utc(attempt.started_at)).total_seconds() * 1000),
        "submitted_at": ended, "was_timed_out": now >= deadline, "day": local_day(ended)}
    if not record_result(attempt, result, graded):
        return SubmitOutcome(counted=False, late=False)
    return SubmitOutcome(counted=True, late=late and answers is not None)


def record_result(attempt: Attempt | Paper, result: dict, graded: list[dict]) -> bool:
    """Claim the open attempt and write its result; False if it was no longer open.

    Written together: the attempt's score, each item's answer and verdict, the person's
    standing (attempts, points, best score and time) and the running totals of their unit and
    of the day, which take their change from the standing as the statement leaves it.

    On PostgreSQL this is one statement (data-modifying WITH), so one round trip; for the
    submission's plain rows, outside any transaction of the session, it runs in autocommit,
    where a single statement is a transaction of its own (no BEGIN, no COMMIT). SQLite has no
    data-modifying WITH: there the same steps are five statements in the session's transaction.
    An ORM attempt is recorded in the session's transaction, whose commit expires it.
    """
    values = {**result, **{f"{name}_{row}": value
                           for row, item in enumerate(graded) for name, value in item.items()}}
    if db.engine.dialect.name != "postgresql":
        connection = db.session.connection()
        if _CLAIM.execute(connection, values).rowcount != 1:
            db.session.rollback()  # also expires an ORM attempt: it reads the claimed row again
            return False
        for statement in (_grade_items(len(graded)), _RAISE_STANDING, _ADD_TO_UNIT_TALLY,
                          _ADD_TO_DAILY_TALLY):
            statement.execute(connection, values)
        db.session.commit()  # expires an ORM attempt: its next read sees the graded row
        return True
    statement = _record_in_one_statement(len(graded))
    if isinstance(attempt, Paper) and not db.session().in_transaction():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return statement.execute(connection, values).rows[0][0] == 1
    claimed = statement.execute(db.session.connection(), values).rows[0][0] == 1
    db.session.commit()
    return claimed


# The submission's statements, built once: building one per request costs more than running it.
# SQL text, because SQLAlchemy's constructs cannot write PostgreSQL's data-modifying WITH, and
# the same pieces make SQLite's statements. Each parameter keeps its column's type (enums,
# dates, JSON).
_attempts, _items = Attempt.__table__, AttemptQuestion.__table__
_days = DailyTally.__table__
_TYPES = {
    "attempt_id": _attempts.c.id.type, "campaign_id": _attempts.c.campaign_id.type,
    "participant_id": _attempts.c.participant_id.type, "unit_id": _attempts.c.unit_id.type,
    "max_score": _attempts.c.max_score.type, "pass_mark": Campaign.__table__.c.pass_mark.type,
    "score": _attempts.c.score.type, "correct_count": _attempts.c.correct_count.type,
    "is_passed": _attempts.c.is_passed.type, "duration_ms": _attempts.c.duration_ms.type,
    "submitted_at": _attempts.c.submitted_at.type,
    "was_timed_out": _attempts.c.was_timed_out.type, "day": _days.c.day.type,
}
_ITEM_TYPES = {"item_id": _items.c.id.type, "new_chosen": _items.c.chosen.type,
               "new_points": _items.c.points_awarded.type,
               "new_correct": _items.c.is_correct.type}


def _prepared(sql: str, item_count: int = 0, returns: dict | None = None) -> Prepared:
    """The statement with its parameters typed: the result's, and those of ``item_count``
    items. ``returns``: the types of the columns it returns, by name."""
    names = set(re.findall(r"(?<!:):(\w+)", sql))
    binds = [bindparam(name, type_=kind) for name, kind in _TYPES.items() if name in names]
    binds += [bindparam(f"{name}_{row}", type_=kind)
              for row in range(item_count) for name, kind in _ITEM_TYPES.items()]
    binds += [bindparam(name, status, type_=_attempts.c.status.type)
              for name, status in (("submitted", AttemptStatus.SUBMITTED),
                                   ("in_progress", AttemptStatus.IN_PROGRESS))
              if name in names]
    statement = text(sql).bindparams(*binds)
    return Prepared(statement.columns(**returns) if returns else statement)


_CLAIM_SQL = (
    "UPDATE attempts SET status = :submitted, was_timed_out = :was_timed_out, "
    "submitted_at = :submitted_at, duration_ms = :duration_ms, score = :score, "
    "correct_count = :correct_count, is_passed = :is_passed "
    "WHERE id = :attempt_id AND status = :in_progress")


def _grade_sql(count: int, also_from: str = "") -> str:
    """Grade all ``count`` items of a paper in one UPDATE: on PostgreSQL, twenty UPDATEs sent
    as one batch cost 0.4 ms more CPU than one (client and server together).

    The rows come from SELECTs joined by UNION ALL: SQLite cannot name the columns of
    FROM (VALUES …), and a statement that starts WITH is not one that Python's sqlite3 opens a
    transaction for. UPDATE … FROM needs SQLite 3.33 or later.
    """
    first = ", ".join(f":{name}_0 AS {name}" for name in _ITEM_TYPES)
    rest = "".join(" UNION ALL SELECT " + ", ".join(f":{name}_{row}" for name in _ITEM_TYPES)
                   for row in range(1, count))
    return ("UPDATE attempt_questions SET chosen = graded.new_chosen, "
            "points_awarded = graded.new_points, is_correct = graded.new_correct "
            f"FROM (SELECT {first}{rest}) AS graded{also_from} "
            "WHERE attempt_questions.id = graded.item_id")


def _standing_sql(source: str) -> str:
    """Add the paper to the person's standing, creating it on their first paper; the best is
    the higher score, then the shorter time. ``previous_best_score`` keeps the best as it was,
    for the totals. ``source``: what the row is selected from (SQLite: nothing)."""
    better = ("excluded.best_score > s.best_score OR (excluded.best_score = s.best_score "
              "AND excluded.best_duration_ms < s.best_duration_ms)")
    return (
        "INSERT INTO participant_standings AS s (campaign_id, participant_id, unit_id, "
        "attempts_count, points_total, best_score, best_duration_ms, best_at, "
        "previous_best_score) "
        "SELECT :campaign_id, :participant_id, :unit_id, 1, :score, :score, :duration_ms, "
        f":submitted_at, 0 {source} "
        "ON CONFLICT (campaign_id, participant_id) DO UPDATE SET "
        "attempts_count = s.attempts_count + 1, "
        "points_total = s.points_total + excluded.points_total, "
        "previous_best_score = s.best_score, "
        + ", ".join(f"{name} = CASE WHEN {better} THEN excluded.{name} ELSE s.{name} END"
                    for name in ("best_score", "best_duration_ms", "best_at")))


def _unit_tally_sql(source: str) -> str:
    """Add the paper to its unit's totals. The person joins them on their first paper; the sum
    of best scores, the passed and the full marks change by what their best changed.
    ``source``: the person's standing as the submission left it."""
    was = "attempts_count > 1 AND previous_best_score"
    return (
        "INSERT INTO unit_tallies AS t (campaign_id, unit_id, participants, attempts, "
        "best_score_sum, passed_participants, full_mark_participants, points_total) "
        "SELECT :campaign_id, :unit_id, CASE WHEN attempts_count = 1 THEN 1 ELSE 0 END, 1, "
        "best_score - previous_best_score, "
        "CASE WHEN best_score >= :pass_mark THEN 1 ELSE 0 END "
        f"- CASE WHEN {was} >= :pass_mark THEN 1 ELSE 0 END, "
        "CASE WHEN best_score = :max_score THEN 1 ELSE 0 END "
        f"- CASE WHEN {was} = :max_score THEN 1 ELSE 0 END, "
        f":score {source} "
        "ON CONFLICT (campaign_id, unit_id) DO UPDATE SET "
        + ", ".join(f"{name} = t.{name} + excluded.{name}" for name in (
            "participants", "attempts", "best_score_sum", "passed_participants",
            "full_mark_participants", "points_total")))


def _daily_tally_sql(source: str) -> str:
    """Add the paper to the day's attempts, and the person to its newcomers on their first."""
    return (
        "INSERT INTO daily_tallies AS d (campaign_id, day, attempts, new_participants) "
        "SELECT :campaign_id, :day, 1, CASE WHEN attempts_count = 1 THEN 1 ELSE 0 END "
        f"{source} ON CONFLICT (campaign_id, day) DO UPDATE SET "
        "attempts = d.attempts + excluded.attempts, "
        "new_participants = d.new_participants + excluded.new_participants")


# SQLite: one statement per step. SELECT … WHERE: without it SQLite would read ON CONFLICT as
# the start of a join.
_THE_STANDING = ("FROM participant_standings "
                 "WHERE campaign_id = :campaign_id AND participant_id = :participant_id")
_CLAIM = _prepared(_CLAIM_SQL)
_RAISE_STANDING = _prepared(_standing_sql("WHERE true"))
_ADD_TO_UNIT_TALLY = _prepared(_unit_tally_sql(_THE_STANDING))
_ADD_TO_DAILY_TALLY = _prepared(_daily_tally_sql(_THE_STANDING))


@lru_cache(maxsize=16)
def _grade_items(count: int) -> Prepared:
    return _prepared(_grade_sql(count), count)


@lru_cache(maxsize=16)
def _record_in_one_statement(count: int) -> Prepared:
    """PostgreSQL: every step in one statement. Each step after the claim selects from the one
    before, so nothing is written when the claim finds the attempt already submitted; the
    totals read the standing's row as its upsert returned it, locked and current, so two
    papers of one person at once still count right."""
    return _prepared(
        f"WITH claimed AS ({_CLAIM_SQL} RETURNING id), "
        f"items_graded AS ({_grade_sql(count, also_from=', claimed')}), "
        f"standing AS ({_standing_sql('FROM claimed')} "
        "RETURNING attempts_count, best_score, previous_best_score), "
        f"unit_tally AS ({_unit_tally_sql('FROM standing')}), "
        f"daily_tally AS ({_daily_tally_sql('FROM standing')}) "
        "SELECT count(*) AS claimed FROM claimed", count, returns={"claimed": Integer()})
