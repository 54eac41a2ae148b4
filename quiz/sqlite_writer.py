"""On SQLite, writers take turns through a lock of ours, handed over the moment it is free.

SQLite lets one connection write at a time. The others wait in its busy handler, which
sleeps 1, 2, 5 … and then 100 ms between tries, so in a broadcast's burst of submissions the
lock often sits free while every writer sleeps: that was a second and more at the 99th
percentile. Before the first write of a transaction a connection now takes a thread lock in
its worker and an flock on a file beside the database across workers; the kernel wakes the
next writer as soon as the transaction ends. Reads never take it. If the lock cannot be had
within the busy timeout, the write goes ahead and SQLite's own waiting decides, as before.
"""
import fcntl
import os
import threading
import weakref

from sqlalchemy import Engine, event

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
WAIT_SECONDS = 10  # as PRAGMA busy_timeout in quiz.extensions


def is_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(WRITES)


class WriterLock:
    """A thread lock for the worker's threads and an flock for the worker processes."""

    def __init__(self, path: str):
        self.threads = threading.Lock()
        self.descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> bool:
        if not self.threads.acquire(timeout=WAIT_SECONDS):
            return False
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX)  # released by the kernel if we die
        except BaseException:
            self.threads.release()
            raise
        return True

    def release(self) -> None:
        fcntl.flock(self.descriptor, fcntl.LOCK_UN)
        self.threads.release()


_locks: dict[tuple[int, str], WriterLock] = {}
_locks_guard = threading.Lock()
_holder = threading.local()  # .lock: the WriterLock this thread holds, if any


def writer_lock(database: str) -> WriterLock:
    """One lock per database file in this process, shared by every engine on it.

    Keyed by process too: an flock belongs to the open file, which a forked child shares with
    its parent and siblings, so a lock made before a fork would let them all in at once."""
    path = os.path.abspath(database) + "-writer.lock"
    key = (os.getpid(), path)
    with _locks_guard:
        if key not in _locks:
            _locks[key] = WriterLock(path)
        return _locks[key]


_databases: "weakref.WeakKeyDictionary[Engine, str]" = weakref.WeakKeyDictionary()


def take_turn(engine: Engine) -> None:
    """Take this thread's turn to write on the engine's database, unless it has it already.

    SQLAlchemy's statements take it through the event below; quiz.prepared calls this for the
    statements it runs on the driver's cursor, past those events. Nothing on other databases.
    The lock is looked up here rather than kept with the engine: an engine made before a fork
    must still get each process its own (see writer_lock).
    """
    database = _databases.get(engine)
    if database is None or getattr(_holder, "lock", None) is not None:
        return
    lock = writer_lock(database)
    if lock.acquire():
        _holder.lock = lock


def give_back(*_args) -> None:
    """End this thread's turn, if it has one."""
    lock = getattr(_holder, "lock", None)
    if lock is not None:
        _holder.lock = None
        lock.release()


def take_turns(engine: Engine, session) -> None:
    """Make writers through this engine queue on its database file's writer lock.

    The turn ends after the session's commit or rollback has reached the database, or when
    the connection goes back to the pool or is thrown away (an error, an interrupted request).
    """
    database = engine.url.database
    if not database or database == ":memory:":
        return
    _databases[engine] = database

    @event.listens_for(engine, "before_cursor_execute")
    def before_a_write(_connection, _cursor, statement, _parameters, _context, _executemany):
        if is_write(statement):
            take_turn(engine)

    for name in ("after_commit", "after_rollback"):
        if not event.contains(session, name, give_back):
            event.listen(session, name, give_back)
    event.listen(engine.pool, "checkin", give_back)
    event.listen(engine.pool, "invalidate", give_back)
