"""Starting, saving and submitting attempts, and keeping the running totals in step."""
import random
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import IntegrityError

from quiz.counters import add_to_counter, insert_unless_present
from quiz.extensions import db
from quiz.grading import award_points, is_passing
from quiz.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Campaign,
    DailyTally,
    Participant,
    ParticipantStanding,
    UnitTally,
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

    The paper is graded before anything is written; then the claim and the result are one
    UPDATE, and the rest a handful of plain statements, so the write lock is held briefly.
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
    duration_ms = int((ended - as_utc(attempt.started_at)).total_seconds() * 1000)
    # The session's own connection, used directly: the session's work per statement came to
    # 0.1-0.2 ms of the submission's 2.2 (bench/results-load.md). Same transaction as before.
    # The statements run on the driver's cursor (quiz.prepared).
    connection = db.session.connection()
    claimed = _CLAIM_AND_GRADE.execute(connection, {
        "attempt_id": attempt.id, "new_was_timed_out": now >= deadline, "new_submitted_at": ended,
        "new_duration_ms": duration_ms, "new_score": score, "new_correct_count": correct,
        "new_is_passed": is_passing(score, campaign.pass_mark)})
    if claimed.rowcount != 1:
        db.session.rollback()  # also expires an ORM attempt, so it reads the claimed row again
        return SubmitOutcome(counted=False, late=False)
    _grade_items(len(graded)).execute(connection, {
        f"{name}_{row}": value for row, item in enumerate(graded) for name, value in item.items()})
    first, deltas = _record_standing(connection, attempt, campaign.pass_mark, score, duration_ms,
                                     ended)
    add_to_counter(UnitTally, {"campaign_id": attempt.campaign_id, "unit_id": attempt.unit_id},
                   deltas, connection)
    add_to_counter(DailyTally, {"campaign_id": attempt.campaign_id, "day": local_day(ended)},
                   {"attempts": 1, "new_participants": int(first)}, connection)
    db.session.commit()  # expires the attempt: its next read sees the graded row
    return SubmitOutcome(counted=True, late=late and answers is not None)


@dataclass
class Standing:
    """A person's running figures in a campaign (a row of participant_standings)."""

    attempts_count: int = 0
    points_total: int = 0
    best_score: int = 0
    best_duration_ms: int = 0
    best_at: datetime | None = None


def next_standing(old: Standing, score: int, max_score: int, duration_ms: int,
                  submitted_at: datetime, pass_mark: int) -> tuple[Standing, dict[str, int]]:
    """The person's figures after one more graded paper, and what the unit's totals gain."""
    is_first = old.attempts_count == 0
    new = Standing(old.attempts_count + 1, old.points_total + score, old.best_score,
                   old.best_duration_ms, old.best_at)
    if (is_first or score > old.best_score
            or (score == old.best_score and duration_ms < old.best_duration_ms)):
        new.best_score, new.best_duration_ms, new.best_at = score, duration_ms, submitted_at
    was_passed = not is_first and is_passing(old.best_score, pass_mark)
    was_full = not is_first and old.best_score == max_score
    deltas = {
        "participants": int(is_first),
        "attempts": 1,
        "best_score_sum": new.best_score - old.best_score,
        "passed_participants": int(is_passing(new.best_score, pass_mark)) - int(was_passed),
        "full_mark_participants": int(new.best_score == max_score) - int(was_full),
        "points_total": score,
    }
    return new, deltas


def _record_standing(connection: Connection, attempt: Attempt | Paper, pass_mark: int,
                     score: int, duration_ms: int,
                     submitted_at: datetime) -> tuple[bool, dict[str, int]]:
    """Add the graded paper to the person's standing, creating it on their first paper.

    Returns whether it was their first paper and the deltas for the unit's totals.
    """
    person = {"campaign_id": attempt.campaign_id, "participant_id": attempt.participant_id}
    rows = _STANDING_OF.execute(connection, person).rows
    if not rows:
        new, deltas = next_standing(Standing(), score, attempt.max_score, duration_ms,
                                    submitted_at, pass_mark)
        if insert_unless_present(ParticipantStanding, tuple(person),
                                 {**person, "unit_id": attempt.unit_id, **vars(new)}, connection):
            return True, deltas
        # The person's other tab created it a moment ago: add to that one.
        rows = _STANDING_OF.execute(connection, person).rows
    standing_id, *figures = rows[0]
    old = Standing(*figures)
    new, deltas = next_standing(old, score, attempt.max_score, duration_ms, submitted_at,
                                pass_mark)
    _UPDATE_STANDING.execute(connection, {"standing_id": standing_id, **{
        f"new_{name}": value for name, value in vars(new).items()}})
    return old.attempts_count == 0, deltas


# The submission's statements, built once: building one per request costs more than running it.
_attempts, _items = Attempt.__table__, AttemptQuestion.__table__
_standings = ParticipantStanding.__table__
_CLAIM_AND_GRADE = Prepared(
    _attempts.update()
    .where(_attempts.c.id == bindparam("attempt_id"),
           _attempts.c.status == AttemptStatus.IN_PROGRESS)
    .values(status=AttemptStatus.SUBMITTED,
            **{name: bindparam(f"new_{name}") for name in (
                "was_timed_out", "submitted_at", "duration_ms", "score", "correct_count",
                "is_passed")}))


@lru_cache(maxsize=16)
def _grade_items(count: int) -> Prepared:
    """One statement that grades all ``count`` items of a paper: on PostgreSQL, twenty
    UPDATEs sent as one batch cost 0.4 ms more CPU than this (client and server together).

    The rows come from SELECTs joined by UNION ALL: SQLite cannot name the columns of
    FROM (VALUES …), and a statement that starts WITH is not one that Python's sqlite3 opens a
    transaction for. UPDATE … FROM needs SQLite 3.33 or later.
    """
    columns = {"item_id": _items.c.id.type, "new_chosen": _items.c.chosen.type,
               "new_points": _items.c.points_awarded.type, "new_correct": _items.c.is_correct.type}
    first = ", ".join(f":{name}_0 AS {name}" for name in columns)
    rest = "".join(" UNION ALL SELECT " + ", ".join(f":{name}_{row}" for name in columns)
                   for row in range(1, count))
    return Prepared(text(
        f'UPDATE "{_items.name}" SET chosen = graded.new_chosen, '
        "points_awarded = graded.new_points, is_correct = graded.new_correct "
        f"FROM (SELECT {first}{rest}) AS graded "
        f'WHERE "{_items.name}".id = graded.item_id'
    ).bindparams(*[bindparam(f"{name}_{row}", type_=kind)
                   for row in range(count) for name, kind in columns.items()]))
_STANDING_OF = Prepared(
    db.select(_standings.c.id, *[_standings.c[field.name] for field in fields(Standing)])
    .where(_standings.c.campaign_id == bindparam("campaign_id"),
           _standings.c.participant_id == bindparam("participant_id"))
    .with_for_update())
_UPDATE_STANDING = Prepared(
    _standings.update().where(_standings.c.id == bindparam("standing_id")).values(
        {field.name: bindparam(f"new_{field.name}") for field in fields(Standing)}))
