"""SQLite writers take turns through the writer lock, and every way a transaction ends gives
the turn back."""
import multiprocessing
import threading
import time

import pytest
from sqlalchemy import bindparam, create_engine, event
from sqlalchemy.orm import sessionmaker

from quiz.extensions import db
from quiz.models import Unit, UnitKind
from quiz.prepared import Prepared
from quiz.sqlite_writer import _holder, give_back, take_turn, take_turns, writer_lock


@pytest.fixture
def sqlite_ctx(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the writer lock is for SQLite only")
        yield app


def holds_turn() -> bool:
    return getattr(_holder, "lock", None) is not None


def add_unit(code: str) -> None:
    db.session.add(Unit(code=code, name=f"单位{code}", kind=UnitKind.COMMUNITY, headcount=10))
    db.session.flush()


def test_a_write_takes_the_turn_and_commit_or_rollback_give_it_back(sqlite_ctx):
    db.session.scalar(db.select(Unit.id).limit(1))
    assert not holds_turn()  # reading never takes it
    add_unit("W1")
    assert holds_turn()
    db.session.commit()
    assert not holds_turn()
    add_unit("W2")
    db.session.rollback()
    assert not holds_turn()
    add_unit("W3")
    db.session.remove()  # the request ends without either: the connection goes back to the pool
    assert not holds_turn()


def test_statements_run_past_sqlalchemy_take_the_turn_when_they_write(sqlite_ctx):
    """quiz.prepared runs on the driver's cursor, where SQLAlchemy's events do not see it."""
    units = Unit.__table__
    read = Prepared(db.select(units.c.id).where(units.c.code == bindparam("code")))
    rename = Prepared(units.update().where(units.c.code == bindparam("code"))
                      .values(name=bindparam("new_name")))
    add_unit("P1")
    db.session.commit()
    read.execute(db.session.connection(), {"code": "P1"})
    assert not holds_turn()
    assert rename.execute(db.session.connection(), {"code": "P1", "new_name": "改名"}).rowcount == 1
    assert holds_turn()
    db.session.commit()
    assert not holds_turn()
    assert db.session.scalar(db.select(Unit.name).filter_by(code="P1")) == "改名"


def test_a_second_writer_waits_for_its_turn_before_sqlite_sees_its_write(sqlite_ctx):
    add_unit("A1")  # this thread's turn, until it commits
    sent_by_second = []  # the second thread's writes that got past the writer lock to SQLite

    def record(_connection, _cursor, statement, *_args):
        if threading.current_thread() is thread and statement.startswith("INSERT"):
            sent_by_second.append(time.monotonic())

    def second_writer():
        with sqlite_ctx.app_context():
            add_unit("B1")
            db.session.commit()

    thread = threading.Thread(target=second_writer)
    event.listen(db.engine, "before_cursor_execute", record)  # runs after the lock's listener
    try:
        thread.start()
        time.sleep(0.3)
        assert sent_by_second == []  # it waits in the lock, not in SQLite's sleeping retries
        committed = time.monotonic()
        db.session.commit()
        thread.join(5)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(sent_by_second) == 1 and sent_by_second[0] >= committed
    assert set(db.session.scalars(db.select(Unit.code))) >= {"A1", "B1"}


def test_the_lock_is_one_per_database_file(tmp_path):
    assert writer_lock(str(tmp_path / "a.sqlite3")) is writer_lock(str(tmp_path / "a.sqlite3"))
    assert writer_lock(str(tmp_path / "a.sqlite3")) is not writer_lock(str(tmp_path / "b.sqlite3"))


def _hold_the_turn(database: str, turns) -> None:
    lock = writer_lock(database)
    lock.acquire()
    began = time.monotonic()
    time.sleep(0.3)
    turns.put((began, time.monotonic()))
    lock.release()


def test_processes_forked_after_the_lock_was_made_still_take_turns(tmp_path):
    # gunicorn with preload_app forks its workers from a master that has built the app; an flock
    # made before the fork is shared by every child, which then all hold it at once.
    database = str(tmp_path / "a.sqlite3")
    writer_lock(database)
    context = multiprocessing.get_context("fork")
    turns = context.Queue()
    children = [context.Process(target=_hold_the_turn, args=(database, turns)) for _ in range(2)]
    for child in children:
        child.start()
    first, second = sorted(turns.get(timeout=10) for _ in children)
    for child in children:
        child.join(timeout=10)
    assert second[0] >= first[1]  # the second began only after the first had ended


def _hold_the_engines_turn(engine, turns) -> None:
    take_turn(engine)
    began = time.monotonic()
    time.sleep(0.3)
    turns.put((began, time.monotonic()))
    give_back()


def test_an_engine_made_before_the_fork_gives_each_process_its_own_turn(tmp_path):
    database = tmp_path / "b.sqlite3"
    engine = create_engine(f"sqlite:///{database}")
    take_turns(engine, sessionmaker())
    take_turn(engine)  # the parent writes once before forking, as a preloading master might
    give_back()
    context = multiprocessing.get_context("fork")
    turns = context.Queue()
    children = [context.Process(target=_hold_the_engines_turn, args=(engine, turns))
                for _ in range(2)]
    for child in children:
        child.start()
    first, second = sorted(turns.get(timeout=10) for _ in children)
    for child in children:
        child.join(timeout=10)
    engine.dispose()
    assert second[0] >= first[1]
