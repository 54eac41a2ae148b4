"""Rate-limit counters that every worker on this machine shares, in a SQLite file of their own.

gunicorn runs several worker processes. With counters in each worker's memory, every limit
was in effect multiplied by the number of workers: under `make run` (two workers) one browser
made 15 wrong organiser logins before the "10 per minute" throttle refused it. Several
application servers share Redis (REDIS_URL); one machine without Redis keeps the counters
here. They live in a file beside nothing else, so counting never waits on the quiz's own
database writes, and they need no durability: a count lost in a power cut only lets a few
extra requests through, so the file is written without fsync. Writers take turns through
quiz.sqlite_writer's lock, which wakes the next one the moment it is free.
"""
import os
import sqlite3
import threading
import time
from contextlib import contextmanager

from limits.storage import Storage

from quiz.sqlite_writer import writer_lock

SCHEME = "shared-file"
SWEEP_EVERY_SECONDS = 60.0
SCHEMA = """CREATE TABLE IF NOT EXISTS counter (
    key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID"""
# One statement counts the hit and reads the total, so two workers can never both see the
# last free place. A window that has ended starts again from this hit. SQLite evaluates every
# SET expression against the row as it was, so expires_at is compared before it changes.
INCREMENT = """INSERT INTO counter (key, hits, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN counter.expires_at <= :now
                THEN excluded.hits ELSE counter.hits + excluded.hits END,
    expires_at = CASE WHEN counter.expires_at <= :now
                      THEN excluded.expires_at ELSE counter.expires_at END
RETURNING hits"""


def shared_file_uri(path: str) -> str:
    return f"{SCHEME}://{os.path.abspath(path)}"


class SharedFileStorage(Storage):
    """``shared-file:///path/to/rate-limits.sqlite3``: fixed-window counters (Flask-Limiter's
    default strategy) in a SQLite file that the workers open each for themselves."""

    STORAGE_SCHEME = [SCHEME]  # limits registers the scheme when the class is defined

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not uri or not uri.startswith(f"{SCHEME}://"):
            raise ValueError(f"expected {SCHEME}:///path, got {uri!r}")
        self.path = uri.removeprefix(f"{SCHEME}://")
        self._local = threading.local()  # a connection per thread, opened on first use
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # A worker forked from a process that had counted holds that process's connection:
        # SQLite connections must not cross a fork, so each process opens its own.
        if getattr(self._local, "pid", None) != os.getpid():
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            self._local.lock = writer_lock(self.path)  # looked up once, not on every hit
            # Workers starting together would otherwise meet in the switch to WAL, which
            # SQLite refuses at once ("database is locked") rather than waiting for.
            with self._turn():
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=OFF")
                connection.execute(SCHEMA)
            self._local.connection, self._local.pid = connection, os.getpid()
        return self._local.connection

    @contextmanager
    def _turn(self):
        lock = self._local.lock
        taken = lock.acquire()
        try:
            yield
        finally:
            if taken:
                lock.release()

    def _write(self, statement: str, parameters: dict | tuple = ()) -> list[tuple]:
        connection = self._connection()
        with self._turn():
            return connection.execute(statement, parameters).fetchall()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self._write("DELETE FROM counter WHERE expires_at <= ?", (now,))
        rows = self._write(INCREMENT, {"key": key, "amount": amount, "now": now,
                                       "expires_at": now + expiry})
        return rows[0][0]

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT hits FROM counter WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute(
            "SELECT expires_at FROM counter WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return row[0] if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1 FROM counter LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int:
        return len(self._write("DELETE FROM counter RETURNING key"))

    def clear(self, key: str) -> None:
        self._write("DELETE FROM counter WHERE key = ?", (key,))
