"""Starting, saving and submitting attempts, and keeping the running totals in step."""
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from quiz.counters import add_to_counter
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
from quiz.papers import draw_questions, record_draws, shuffled_option_keys
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


def record_answers(attempt: Attempt, answers: dict[int, list[str]]) -> None:
    """Store answers (option keys by position) on an open attempt; the caller commits."""
    for item in attempt.questions:
        if item.position in answers:
            item.chosen = sorted(answers[item.position])


@dataclass
class SubmitOutcome:
    counted: bool  # False when the attempt had already been submitted
    late: bool  # True when the answers sent arrived after the time limit and its grace


def finish_attempt(attempt: Attempt, answers: dict[int, list[str]] | None,
                   now: datetime | None = None) -> SubmitOutcome:
    """Grade the attempt once and update standings and unit totals in one transaction.

    A second submission (double tap, network retry, two tabs) finds the attempt
    already claimed and changes nothing. Answers that arrive after the deadline
    plus grace are ignored; what was saved in time is graded.
    """
    now = now or utcnow()
    claimed = db.session.execute(
        db.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.SUBMITTED)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(attempt)
        return SubmitOutcome(counted=False, late=False)
    # The claim changed the row in the database; tell the loaded object without reloading it.
    set_committed_value(attempt, "status", AttemptStatus.SUBMITTED)
    late = is_past_grace(attempt, now)
    if answers is not None and not late:
        record_answers(attempt, answers)
    campaign = attempt.campaign
    deadline = as_utc(attempt.deadline_at)
    ended = min(now, deadline)
    attempt.was_timed_out = now >= deadline
    attempt.submitted_at = ended
    attempt.duration_ms = int((ended - as_utc(attempt.started_at)).total_seconds() * 1000)
    score = correct = 0
    for item in attempt.questions:
        item.points_awarded = award_points(item.version.question.qtype, item.version.answer,
                                           item.chosen, item.points, campaign.partial_credit)
        item.is_correct = item.points_awarded == item.points
        score += item.points_awarded
        correct += item.is_correct
    attempt.score, attempt.correct_count = score, correct
    attempt.is_passed = is_passing(score, campaign.pass_mark)
    _update_totals(attempt, campaign)
    db.session.commit()
    return SubmitOutcome(counted=True, late=late and answers is not None)


def _standing_for(attempt: Attempt) -> ParticipantStanding:
    query = db.select(ParticipantStanding).where(
        ParticipantStanding.campaign_id == attempt.campaign_id,
        ParticipantStanding.participant_id == attempt.participant_id).with_for_update()
    standing = db.session.scalar(query)
    if standing is None:
        try:
            with db.session.begin_nested():
                standing = ParticipantStanding(
                    campaign_id=attempt.campaign_id, participant_id=attempt.participant_id,
                    unit_id=attempt.unit_id)
                db.session.add(standing)
        except IntegrityError:  # the person's other tab created it a moment ago
            standing = db.session.scalar(query)
    return standing


def _update_totals(attempt: Attempt, campaign: Campaign) -> None:
    standing = _standing_for(attempt)
    is_first = standing.attempts_count == 0
    old_best = standing.best_score
    was_passed = not is_first and is_passing(old_best, campaign.pass_mark)
    was_full = not is_first and old_best == campaign.max_score

    standing.attempts_count += 1
    standing.points_total += attempt.score
    if (is_first or attempt.score > standing.best_score
            or (attempt.score == standing.best_score
                and attempt.duration_ms < standing.best_duration_ms)):
        standing.best_score = attempt.score
        standing.best_duration_ms = attempt.duration_ms
        standing.best_at = attempt.submitted_at
    now_passed = is_passing(standing.best_score, campaign.pass_mark)
    now_full = standing.best_score == campaign.max_score

    deltas = {
        "participants": int(is_first),
        "attempts": 1,
        "best_score_sum": standing.best_score - (0 if is_first else old_best),
        "passed_participants": int(now_passed) - int(was_passed),
        "full_mark_participants": int(now_full) - int(was_full),
        "points_total": attempt.score,
    }
    add_to_counter(UnitTally, {"campaign_id": attempt.campaign_id, "unit_id": attempt.unit_id},
                   deltas)
    add_to_counter(DailyTally, {"campaign_id": attempt.campaign_id,
                                "day": local_day(attempt.submitted_at)},
                   {"attempts": 1, "new_participants": int(is_first)})
