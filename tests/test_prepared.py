"""Statements run on the driver's cursor (quiz.prepared): SQLAlchemy's values and errors."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, create_engine, exc, text
from sqlalchemy.pool import NullPool

from quiz.attempts import start_or_resume
from quiz.extensions import db
from quiz.models import Attempt, AttemptQuestion, AttemptStatus, ParticipantStanding
from quiz.prepared import Prepared, kept_cursor
from tests import factories

_items, _attempts = AttemptQuestion.__table__, Attempt.__table__
_standings = ParticipantStanding.__table__
GRADE = Prepared(_items.update().where(_items.c.id == bindparam("item_id")).values(
    chosen=bindparam("chosen"), points_awarded=bindparam("points"),
    is_correct=bindparam("correct")))
CLOSE = Prepared(_attempts.update().where(_attempts.c.id == bindparam("attempt_id"))
                 .values(status=AttemptStatus.SUBMITTED))  # a value written into the statement
STANDING = Prepared(db.select(_standings.c.id, _standings.c.best_at)
                    .where(_standings.c.participant_id == bindparam("participant_id")))


@pytest.fixture
def attempt(ctx):
    factories.make_bank()
    campaign = factories.make_campaign()
    participant = factories.make_participant(factories.make_unit())
    return start_or_resume(campaign, participant)


def test_values_are_converted_as_sqlalchemy_converts_them(attempt):
    item_id, attempt_id = attempt.questions[0].id, attempt.id
    connection = db.session.connection()
    graded = GRADE.execute_many(connection, [
        {"item_id": item_id, "chosen": ["B", "A"], "points": 20, "correct": True}])
    assert graded.rowcount == 1
    assert CLOSE.execute(connection, {"attempt_id": attempt_id}).rowcount == 1
    best_at = datetime(2024, 6, 16, 9, 30, 5, 123456, tzinfo=UTC)
    connection.execute(_standings.insert().values(
        campaign_id=attempt.campaign_id, participant_id=attempt.participant_id,
        unit_id=attempt.unit_id, attempts_count=1, points_total=20, best_score=20,
        best_duration_ms=1000, best_at=best_at))
    db.session.commit()

    item = db.session.get(AttemptQuestion, item_id)
    assert item.chosen == ["B", "A"] and item.points_awarded == 20 and item.is_correct is True
    assert db.session.get(Attempt, attempt_id).status is AttemptStatus.SUBMITTED
    rows = STANDING.execute(db.session.connection(),
                            {"participant_id": attempt.participant_id}).rows
    expected = db.session.execute(STANDING.statement,
                                  {"participant_id": attempt.participant_id}).one()
    assert rows == [tuple(expected)]
    assert isinstance(rows[0][1], datetime)


def test_a_driver_error_comes_back_as_sqlalchemys(attempt):
    broken = Prepared(text("UPDATE no_such_table SET x = :x").bindparams(bindparam("x")))
    with pytest.raises(exc.DBAPIError) as raised:  # what quiz.errors' handlers know
        broken.execute(db.session.connection(), {"x": 1})
    assert not raised.value.connection_invalidated
    db.session.rollback()
    assert db.session.get(Attempt, attempt.id) is not None  # the session goes on


def test_a_dropped_connection_is_replaced(app, attempt):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a database server drops connections; a SQLite file does not")
    attempt_id = attempt.id  # read now: reading it later would load it on the dead connection,
    # and SQLAlchemy's own statement would find the connection lost before ours did
    connection = db.session.connection()
    backend = connection.scalar(text("SELECT pg_backend_pid()"))
    with create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool).connect() \
            as other:
        assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with pytest.raises(exc.OperationalError) as raised:
        CLOSE.execute(connection, {"attempt_id": attempt_id})
    assert raised.value.connection_invalidated and connection.invalidated  # not given back
    db.session.rollback()
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != backend


def test_one_cursor_serves_a_connection_and_a_replaced_connection_gets_a_new_one(attempt):
    pooled = db.session.connection().connection
    first = kept_cursor(pooled)
    STANDING.execute(db.session.connection(), {"participant_id": attempt.participant_id})
    CLOSE.execute(db.session.connection(), {"attempt_id": attempt.id})
    assert first.rowcount == 1  # the UPDATE ran on it
    assert kept_cursor(pooled) is first
    db.session.commit()
    assert db.session.get(Attempt, attempt.id).status is AttemptStatus.SUBMITTED
    db.session.connection().invalidate()  # as when the server dropped it
    db.session.rollback()
    renewed = db.session.connection().connection
    assert kept_cursor(renewed) is not first
    assert STANDING.execute(db.session.connection(),
                            {"participant_id": attempt.participant_id}).rows == []


def test_rows_nobody_asked_for_are_read_to_the_end(attempt):
    """On SQLite a statement left half-read on the kept cursor would keep its read open."""
    untyped = Prepared(text("SELECT id FROM attempt_questions"))
    outcome = untyped.execute(db.session.connection(), {})
    assert outcome.rows == []
    cursor = kept_cursor(db.session.connection().connection)
    assert cursor.fetchall() == []
