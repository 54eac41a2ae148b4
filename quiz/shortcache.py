"""A few seconds of memory for figures that are the same for every visitor.

On a consultation day thousands of phones open the leaderboard within a minute, and each
would otherwise roll up every unit's totals and render every row again. Keeping the result
for LEADERBOARD_CACHE_SECONDS in each worker process costs that work once per worker per
interval; the figures are at most that many seconds old (plus the moment a refresh takes).
Values must be plain data (no ORM objects): they outlive the request and its session.
"""
import gzip
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request

MAX_ENTRIES = 256  # kinds × metrics × campaigns is a few dozen; a bound keeps odd keys harmless


class ShortCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, seconds: float, compute: Callable[[], Any]) -> Any:
        """The value computed for ``key`` less than ``seconds`` ago, else ``compute()``.

        One thread recomputes an expired value; meanwhile the others get the expired one
        at once instead of queueing behind it (a board page takes ~0.1 s to build under
        load). Only when there is no value at all do they wait for the first computation.
        """
        if seconds <= 0:
            return compute()
        entry = self._values.get(key)
        if self._is_fresh(entry, seconds):
            return entry[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=entry is None):
            return entry[1]  # someone is refreshing it; the previous figures will do
        try:
            entry = self._values.get(key)  # another thread may have refreshed it meanwhile
            if self._is_fresh(entry, seconds):
                return entry[1]
            value = compute()
            with self._guard:
                if len(self._values) >= MAX_ENTRIES:
                    self._values.clear()
                self._values[key] = (self._clock(), value)
            return value
        finally:
            lock.release()

    def _is_fresh(self, entry: tuple[float, Any] | None, seconds: float) -> bool:
        return entry is not None and self._clock() - entry[0] < seconds


def cached(key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()``'s value, kept for LEADERBOARD_CACHE_SECONDS in this app's process."""
    cache = current_app.extensions.setdefault("short_cache", ShortCache())
    return cache.get(key, current_app.config["LEADERBOARD_CACHE_SECONDS"], compute)


@dataclass(frozen=True)
class SharedBody:
    """A response body kept for every visitor, with its gzip form made once, not per request."""

    plain: bytes
    compressed: bytes

    @classmethod
    def of(cls, text: str | bytes) -> "SharedBody":
        plain = text.encode() if isinstance(text, str) else text
        return cls(plain=plain, compressed=gzip.compress(plain, compresslevel=6))


def shared_response(key: Hashable, render: Callable[[], str | bytes], mimetype: str) -> Response:
    """A response whose body is cached(); compressed for the browsers that accept it.

    The board of a district runs to ~160 KB of HTML and ~9 KB gzipped. nginx compresses in a
    full deployment, but `make run` serves phones directly; compressing once per interval
    here costs less than sending 160 KB for every request.
    """
    body = cached(key, lambda: SharedBody.of(render()))
    if request.accept_encodings["gzip"]:
        response = Response(body.compressed, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(body.plain, mimetype=mimetype)
    response.vary.add("Accept-Encoding")
    return response
