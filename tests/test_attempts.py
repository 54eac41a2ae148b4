"""Drawing, limits, submission and running totals, without HTTP."""
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from quiz.attempts import AttemptLimitReached, finish_attempt, record_result, start_or_resume
from quiz.counters import add_to_counter
from quiz.extensions import db
from quiz.leaderboard import rank_in_unit, unit_rank, unit_rows
from quiz.models import (
    Attempt,
    AttemptStatus,
    Campaign,
    DailyTally,
    ParticipantStanding,
    Question,
    QuestionType,
    ScoringMode,
    UnitTally,
)
from quiz.paper_rows import _PAPER, _paper_rows, paper_of, save_answers
from quiz.papers import PaperError, draw_questions, record_draws, validate_sections
from quiz.timeutil import as_utc, local_day, utcnow
from tests.factories import make_bank, make_campaign, make_participant, make_question, make_unit

# Noon in Asia/Shanghai (TIMEZONE), for tests that step minutes ahead and expect the same local
# day: from utcnow() they failed when run in the last minutes before local midnight.
LOCAL_NOON = datetime(2024, 6, 16, 4, 0, tzinfo=UTC)


def right_answers(attempt):
    return {item.position: list(item.version.answer) for item in attempt.questions}


def test_exam_paper_follows_the_rules_and_freezes_versions(ctx):
    make_bank(singles=14, multiples=5, judges=5)
    campaign = make_campaign("exam")
    attempt = start_or_resume(campaign, make_participant(make_unit()), rng=random.Random(1))
    types = Counter(item.version.question.qtype for item in attempt.questions)
    assert types == {QuestionType.SINGLE: 12, QuestionType.MULTIPLE: 4, QuestionType.JUDGE: 4}
    assert len({item.version.question_id for item in attempt.questions}) == 20
    assert attempt.max_score == 100
    for item in attempt.questions:
        assert item.question_version_id == item.version.question.current_version_id
        assert sorted(item.option_order) == sorted(o["key"] for o in item.version.options)


def test_least_drawn_questions_come_first(ctx):
    make_bank(singles=10, multiples=0, judges=0)
    sections = [{"type": "single", "category": None, "count": 5, "points": 1}]
    rng = random.Random(7)
    seen = Counter()
    for _ in range(4):  # 20 draws over 10 questions: each exactly twice
        picked = draw_questions(sections, rng)
        record_draws(picked)
        seen.update(q.id for q, _points in picked)
        db.session.commit()
    assert sorted(seen.values()) == [2] * 10
    assert {q.times_drawn for q in db.session.scalars(db.select(Question))} == {2}


def test_disabled_and_retired_questions_are_never_drawn(ctx):
    questions = make_bank(singles=6, multiples=0, judges=0)
    questions[0].is_enabled = False
    questions[1].is_retired = True
    db.session.commit()
    sections = [{"type": "single", "category": None, "count": 4, "points": 1}]
    drawn = {q.id for q, _ in draw_questions(sections, random.Random(3))}
    assert drawn == {q.id for q in questions[2:]}


def test_a_bank_too_small_for_the_paper_says_so(ctx):
    make_bank(singles=3, multiples=0, judges=0, category="燃气安全")
    sections = [{"type": "single", "category": "燃气安全", "count": 5, "points": 1}]
    with pytest.raises(PaperError, match="“燃气安全”分类的单选题只有 3 道可用，组卷需要 5 道"):
        draw_questions(sections, random.Random(1))


@pytest.mark.parametrize(("sections", "problem"), [
    ([], "至少要有一组"),
    ([{"type": "essay", "count": 1, "points": 1}], "题型无效"),
    ([{"type": "single", "count": 0, "points": 1}], "题数"),
    ([{"type": "single", "count": 2, "points": True}], "分值"),
])
def test_invalid_paper_rules(sections, problem):
    assert any(problem in text for text in validate_sections(sections))


def test_reopening_returns_the_same_frozen_paper(ctx):
    make_bank()
    campaign = make_campaign("contest")
    person = make_participant(make_unit())
    first = start_or_resume(campaign, person)
    again = start_or_resume(campaign, person)
    assert again.id == first.id
    assert [i.option_order for i in again.questions] == [i.option_order for i in first.questions]


def test_daily_limit_counts_per_local_day(ctx):
    make_bank()
    campaign = make_campaign("contest")  # one paper a day
    person = make_participant(make_unit())
    now = LOCAL_NOON
    attempt = start_or_resume(campaign, person, now=now)
    finish_attempt(attempt, right_answers(attempt), now=now)
    with pytest.raises(AttemptLimitReached):
        start_or_resume(campaign, person, now=now + timedelta(minutes=5))
    tomorrow = start_or_resume(campaign, person, now=now + timedelta(days=1))
    assert tomorrow.id != attempt.id and tomorrow.day_seq == 1


def test_an_abandoned_paper_is_graded_when_its_time_is_up(ctx):
    make_bank(singles=14, multiples=5, judges=5)
    campaign = make_campaign("exam", attempts_per_day=2)
    person = make_participant(make_unit())
    start = LOCAL_NOON  # the fresh paper must fall on the same local day
    abandoned = start_or_resume(campaign, person, now=start)
    later = start + timedelta(seconds=campaign.time_limit_seconds + 60)
    fresh = start_or_resume(campaign, person, now=later)
    db.session.refresh(abandoned)
    assert abandoned.status is AttemptStatus.SUBMITTED and abandoned.was_timed_out
    assert fresh.id != abandoned.id and fresh.day_seq == 2


def test_a_submission_counts_once(ctx):
    make_bank()
    campaign = make_campaign("contest")
    unit = make_unit()
    attempt = start_or_resume(campaign, make_participant(unit))
    first = finish_attempt(attempt, right_answers(attempt))
    second = finish_attempt(attempt, {})
    assert first.counted and not second.counted
    assert attempt.score == 100
    tally = db.session.scalar(db.select(UnitTally).filter_by(unit_id=unit.id))
    assert (tally.attempts, tally.participants, tally.points_total) == (1, 1, 100)


def test_each_item_keeps_its_answer_and_verdict_and_other_papers_are_untouched(ctx):
    make_bank(singles=14, multiples=5, judges=5)
    campaign = make_campaign("exam")
    unit = make_unit()
    attempt = start_or_resume(campaign, make_participant(unit))
    other = start_or_resume(campaign, make_participant(unit))
    keys = right_answers(attempt)
    items = attempt.questions
    wrong = next(key for key in items[1].option_order if key not in keys[items[1].position])
    answers = {**keys, items[1].position: [wrong], items[2].position: []}
    del answers[items[3].position]  # never answered
    finish_attempt(attempt, answers)
    db.session.expire_all()
    stored = {item.position: (item.chosen, item.points_awarded, item.is_correct)
              for item in attempt.questions}
    assert stored[items[0].position] == (sorted(keys[items[0].position]), items[0].points, True)
    assert stored[items[1].position] == ([wrong], 0, False)
    assert stored[items[2].position][1:] == (0, False) and not stored[items[2].position][0]
    assert stored[items[3].position][1:] == (0, False) and not stored[items[3].position][0]
    assert sum(points for _chosen, points, _correct in stored.values()) == attempt.score
    assert attempt.correct_count == sum(correct for *_rest, correct in stored.values())
    assert attempt.correct_count == len(items) - 3
    assert all((item.chosen, item.points_awarded, item.is_correct) == (None, 0, None)
               for item in other.questions)


def test_answers_after_the_grace_are_ignored_but_saved_ones_count(ctx):
    make_bank()
    campaign = make_campaign("contest")
    attempt = start_or_resume(campaign, make_participant(make_unit()))
    keys = right_answers(attempt)
    first = attempt.questions[0]
    first.chosen = keys[first.position]  # saved in time by the autosave
    db.session.commit()
    too_late = utcnow() + timedelta(seconds=campaign.time_limit_seconds + 60)
    outcome = finish_attempt(attempt, keys, now=too_late)
    assert outcome.counted and outcome.late
    assert attempt.score == first.points and attempt.was_timed_out
    assert attempt.duration_ms == campaign.time_limit_seconds * 1000


def test_a_submission_within_the_grace_counts_in_full(ctx):
    make_bank()
    campaign = make_campaign("contest")
    attempt = start_or_resume(campaign, make_participant(make_unit()))
    just_after = utcnow() + timedelta(seconds=campaign.time_limit_seconds + 5)
    outcome = finish_attempt(attempt, right_answers(attempt), now=just_after)
    assert not outcome.late and attempt.score == 100


def recount(campaign, unit):
    """Unit figures computed the slow way, from the attempts themselves."""
    attempts = db.session.scalars(db.select(Attempt).filter_by(
        campaign_id=campaign.id, unit_id=unit.id, status=AttemptStatus.SUBMITTED)).all()
    best: dict[int, int] = {}
    for attempt in attempts:
        best[attempt.participant_id] = max(best.get(attempt.participant_id, 0), attempt.score)
    return {
        "participants": len(best),
        "attempts": len(attempts),
        "best_score_sum": sum(best.values()),
        "passed_participants": sum(score >= campaign.pass_mark for score in best.values()),
        "full_mark_participants": sum(score == campaign.max_score for score in best.values()),
        "points_total": sum(a.score for a in attempts),
    }


@pytest.mark.parametrize("preset", ["contest", "exam"])
def test_unit_totals_equal_a_recount_from_the_attempts(ctx, preset):
    make_bank(singles=14, multiples=5, judges=5)
    campaign = make_campaign(preset, attempts_per_day=3)
    unit = make_unit()
    rng = random.Random(11)
    now = utcnow()
    for person_number in range(4):
        person = make_participant(unit, name=f"人{person_number}")
        for round_number in range(3):
            attempt = start_or_resume(campaign, person, now=now, rng=rng)
            answers = {pos: (keys if rng.random() < 0.6 else [])
                       for pos, keys in right_answers(attempt).items()}
            finish_attempt(attempt, answers, now=now + timedelta(seconds=20 + round_number))
    tally = db.session.scalar(db.select(UnitTally).filter_by(unit_id=unit.id))
    assert {name: getattr(tally, name) for name in recount(campaign, unit)} == recount(campaign, unit)


def test_ranks_by_best_score_then_time_then_first(ctx):
    make_bank(singles=14, multiples=5, judges=5)
    campaign = make_campaign("exam")
    unit = make_unit()
    now = utcnow()
    results = {}
    for name, share, seconds in [("快而全对", 1.0, 60), ("慢而全对", 1.0, 300), ("半对", 0.5, 30)]:
        person = make_participant(unit, name=name)
        attempt = start_or_resume(campaign, person, now=now)
        keys = right_answers(attempt)
        answers = {pos: k for pos, k in keys.items() if pos <= len(keys) * share}
        finish_attempt(attempt, answers, now=now + timedelta(seconds=seconds))
        results[name] = db.session.scalar(db.select(ParticipantStanding).filter_by(
            participant_id=person.id))
    assert rank_in_unit(campaign, results["快而全对"]) == (1, 3)
    assert rank_in_unit(campaign, results["慢而全对"]) == (2, 3)
    assert rank_in_unit(campaign, results["半对"]) == (3, 3)


def test_units_rank_by_points_in_contest_mode(ctx):
    make_bank()
    campaign = make_campaign("contest")
    assert campaign.scoring_mode is ScoringMode.ACCUMULATE
    busy, quiet, idle = make_unit(), make_unit(), make_unit()
    for unit, people in ((busy, 3), (quiet, 1)):
        for _ in range(people):
            attempt = start_or_resume(campaign, make_participant(unit))
            finish_attempt(attempt, right_answers(attempt))
    rows = unit_rows(campaign, busy.kind)
    assert [row.unit.id for row in rows][:2] == [busy.id, quiet.id]
    assert rows[0].points_total == 300 and rows[0].participation_rate == 0.03
    assert unit_rank(campaign, quiet) == (2, 3)
    assert unit_rank(campaign, idle) == (3, 3)


def test_partial_credit_campaign(ctx):
    make_question(QuestionType.MULTIPLE, answer=["A", "C"])
    campaign = make_campaign("exam", partial_credit=True, paper_sections=[
        {"type": "multiple", "category": None, "count": 1, "points": 4}])
    attempt = start_or_resume(campaign, make_participant(make_unit()))
    finish_attempt(attempt, {1: ["A"]})
    assert attempt.score == 2


FIGURES = ("participants", "attempts", "best_score_sum", "passed_participants",
           "full_mark_participants", "points_total")


@pytest.mark.parametrize("old, score, duration, expected_best, expected_deltas", [
    # A first paper: the person joins the unit's figures with this score.
    (None, 80, 90_000, (80, 90_000),
     {"participants": 1, "attempts": 1, "best_score_sum": 80, "passed_participants": 1,
      "full_mark_participants": 0, "points_total": 80}),
    # A better second paper: the best rises by the difference and the person now has full marks.
    ((1, 80, 80, 90_000), 100, 120_000, (100, 120_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 20, "passed_participants": 0,
      "full_mark_participants": 1, "points_total": 100}),
    # The same score, faster: the best time improves, the unit's sums do not change.
    ((1, 80, 80, 90_000), 80, 60_000, (80, 60_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 0, "passed_participants": 0,
      "full_mark_participants": 0, "points_total": 80}),
    # The same score, slower: nothing of the best changes.
    ((2, 160, 80, 90_000), 80, 95_000, (80, 90_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 0, "passed_participants": 0,
      "full_mark_participants": 0, "points_total": 80}),
    # The same score in the same time: the first one stays the best (it ranks first).
    ((1, 80, 80, 90_000), 80, 90_000, (80, 90_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 0, "passed_participants": 0,
      "full_mark_participants": 0, "points_total": 80}),
    # A worse paper: only the attempt and its points are added.
    ((1, 60, 60, 90_000), 40, 30_000, (60, 90_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 0, "passed_participants": 0,
      "full_mark_participants": 0, "points_total": 40}),
    # Failing first, then passing: the person starts to count as passed.
    ((1, 40, 40, 90_000), 60, 90_000, (60, 90_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 20, "passed_participants": 1,
      "full_mark_participants": 0, "points_total": 60}),
    # Full marks again, faster: still one full-mark person, still one passed.
    ((1, 100, 100, 90_000), 100, 80_000, (100, 80_000),
     {"participants": 0, "attempts": 1, "best_score_sum": 0, "passed_participants": 0,
      "full_mark_participants": 0, "points_total": 100}),
])
def test_a_paper_changes_the_standing_and_the_unit_totals_by_the_rules(
        ctx, old, score, duration, expected_best, expected_deltas):
    """The rules as the database applies them (one statement on PostgreSQL, five on SQLite)."""
    make_bank(singles=14, multiples=5, judges=5)
    campaign = make_campaign("exam", pass_mark=60)
    unit = make_unit()
    person = make_participant(unit)
    earlier = LOCAL_NOON - timedelta(days=1)
    if old is not None:
        attempts_count, points_total, best_score, best_duration = old
        db.session.add(ParticipantStanding(
            campaign_id=campaign.id, participant_id=person.id, unit_id=unit.id,
            attempts_count=attempts_count, points_total=points_total, best_score=best_score,
            best_duration_ms=best_duration, best_at=earlier))
    before = {name: 1000 for name in FIGURES}  # the unit's totals from everyone else
    db.session.add(UnitTally(campaign_id=campaign.id, unit_id=unit.id, **before))
    db.session.commit()
    attempt = start_or_resume(campaign, person, now=LOCAL_NOON)
    submitted = LOCAL_NOON + timedelta(minutes=2)
    result = {"attempt_id": attempt.id, "campaign_id": campaign.id, "participant_id": person.id,
              "unit_id": unit.id, "max_score": campaign.max_score, "pass_mark": 60,
              "score": score, "correct_count": 0, "is_passed": score >= 60,
              "duration_ms": duration, "submitted_at": submitted, "was_timed_out": False,
              "day": local_day(submitted)}
    graded = [{"item_id": item.id, "new_chosen": [], "new_points": 0, "new_correct": False}
              for item in attempt.questions]
    assert campaign.max_score == 100
    assert record_result(attempt, result, graded) is True
    assert record_result(attempt, result, graded) is False  # claimed once only
    standing = db.session.scalar(
        db.select(ParticipantStanding).filter_by(participant_id=person.id))
    assert (standing.best_score, standing.best_duration_ms) == expected_best
    attempts_before, points_before = (old or (0, 0))[:2]
    assert standing.attempts_count == attempts_before + 1
    assert standing.points_total == points_before + score
    improved = old is None or expected_best != tuple(old[2:])
    assert as_utc(standing.best_at) == (submitted if improved else earlier)
    tally = db.session.scalar(db.select(UnitTally).filter_by(unit_id=unit.id))
    assert {name: getattr(tally, name) - before[name] for name in FIGURES} == expected_deltas
    day = db.session.scalar(db.select(DailyTally).filter_by(campaign_id=campaign.id))
    assert (day.day, day.attempts, day.new_participants) == (
        local_day(submitted), 1, int(old is None))


def test_a_counter_row_is_created_once_then_added_to(ctx):
    campaign, unit = make_campaign("contest"), make_unit()
    keys = {"campaign_id": campaign.id, "unit_id": unit.id}
    add_to_counter(UnitTally, keys, {"attempts": 1, "points_total": 80})
    add_to_counter(UnitTally, keys, {"attempts": 1, "points_total": 20})
    db.session.commit()
    tally = db.session.scalar(db.select(UnitTally).filter_by(**keys))
    assert (tally.attempts, tally.points_total, tally.participants) == (2, 100, 0)


def test_a_paper_read_on_its_own_connection_converts_values_as_the_session_does(ctx):
    """paper_of runs the statement on a pooled DBAPI connection with SQLAlchemy's conversions
    for this database (dates, the status, JSON, booleans); rows and types must be the same."""
    make_bank()
    participant = make_participant(make_unit())
    attempt = start_or_resume(make_campaign("contest"), participant)
    first_key = attempt.questions[0].option_order[0]
    save_answers(paper_of(attempt.token, participant.token), {1: [first_key]})
    db.session.commit()
    values = {"token": attempt.token, "person": participant.token}
    through_session = [tuple(row) for row in db.session.execute(_PAPER.statement, values)]
    on_its_own = _paper_rows(values)
    assert on_its_own == through_session and len(on_its_own) == len(attempt.questions)
    first = on_its_own[0]
    assert first[5] is AttemptStatus.IN_PROGRESS and isinstance(first[6], datetime)
    assert first[11] is False and first[-2] == [first_key] and on_its_own[1][-2] is None
    assert _paper_rows({**values, "person": "someone-else"}) == []


def test_a_paper_read_leaves_every_pooled_connection_transactional(ctx):
    """On PostgreSQL the paper is read in autocommit (no BEGIN and ROLLBACK round trips);
    the connection must go back to the pool as it came, or a later rollback would undo nothing."""
    make_bank()
    participant = make_participant(make_unit())
    campaign = make_campaign("contest")
    token, person, title = start_or_resume(campaign, participant).token, participant.token, \
        campaign.title
    db.session.remove()
    assert paper_of(token, person) is not None
    db.session.remove()  # the wording's first read took a connection into the session
    assert_every_pooled_connection_rolls_back(title)


def assert_every_pooled_connection_rolls_back(title: str) -> None:
    engine = db.engine
    connections = [engine.connect() for _ in range(engine.pool.checkedin())]
    assert connections
    try:
        for connection in connections:
            connection.execute(Campaign.__table__.update().values(title="改掉了"))
            connection.rollback()
    finally:
        for connection in connections:
            connection.close()
    assert db.session.scalar(db.select(Campaign.title)) == title


def test_the_submission_views_path_counts_once_and_leaves_the_pool_transactional(ctx):
    """The submission view grades the paper's plain rows outside any transaction of the
    session: on PostgreSQL its result is one statement in autocommit. It counts once, and the
    connection goes back to the pool in its usual mode."""
    make_bank()
    participant = make_participant(make_unit())
    campaign = make_campaign("contest")
    attempt = start_or_resume(campaign, participant)
    token, person, title = attempt.token, participant.token, campaign.title
    db.session.remove()
    paper_of(token, person)  # the questions' wording is read once, through the session
    db.session.remove()
    paper = paper_of(token, person, for_writing=True)
    # SQLite reads it in the transaction its writes will use; PostgreSQL needs none.
    assert db.session().in_transaction() == (db.engine.dialect.name == "sqlite")
    answers = {item.position: list(item.content.answer) for item in paper.questions}
    assert finish_attempt(paper, answers).counted is True
    db.session.remove()
    assert finish_attempt(paper, answers).counted is False  # the same rows sent again
    db.session.remove()
    assert paper_of(token, person).is_submitted
    assert db.session.scalar(db.select(Attempt.score).filter_by(token=token)) == 100
    tally = db.session.scalar(db.select(UnitTally))
    assert (tally.participants, tally.attempts, tally.points_total) == (1, 1, 100)
    db.session.remove()
    assert_every_pooled_connection_rolls_back(title)


def test_a_save_that_arrives_after_the_submission_changes_nothing(ctx):
    make_bank()
    participant = make_participant(make_unit())
    attempt = start_or_resume(make_campaign("contest"), participant)
    paper = paper_of(attempt.token, participant.token)  # read by the save before the submit won
    finish_attempt(attempt, right_answers(attempt))
    graded = {item.position: item.chosen for item in attempt.questions}
    wrong = {item.position: [key for key in item.option_order
                             if key not in graded[item.position]][:1]
             for item in paper.questions}
    save_answers(paper, wrong)
    db.session.commit()
    db.session.expire_all()
    assert {item.position: item.chosen for item in attempt.questions} == graded


def test_a_paper_is_read_only_for_its_own_person(ctx):
    make_bank()
    owner, other = make_participant(make_unit()), make_participant(make_unit())
    attempt = start_or_resume(make_campaign("contest"), owner)
    assert paper_of(attempt.token, other.token) is None
    paper = paper_of(attempt.token, owner.token)
    assert [item.question_version_id for item in paper.questions] == \
        [item.question_version_id for item in attempt.questions]
    assert [item.content.stem for item in paper.questions] == \
        [item.version.stem for item in attempt.questions]
