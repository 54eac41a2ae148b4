"""Rate-limit counters in memory (the embedded default) that expire without a thread per hit.

limits' own memory:// storage, after a hit, starts a new thread 10 ms later whenever none is
alive, and that thread walks every key. With a key per paper (the save and submit limits) the
keys are the papers of the last minute: at 300 hits a second this cost a worker a tenth of a
core with 6,000 keys and a quarter with 20,000 (bench/limiter_storage.py). Here the walk runs
inline, in whichever request comes first after a second has passed. Reading a key already
treats an expired count as absent (MemoryStorage.get), so sweeping less often only frees
memory later.
"""
import threading
import time

from limits.storage import MemoryStorage

SWEEP_EVERY_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """``swept-memory://``: MemoryStorage with its expiry timer replaced by an inline sweep."""

    STORAGE_SCHEME = ["swept-memory"]  # limits registers the scheme when the class is defined

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0

    # MemoryStorage calls self.__schedule_expiry() after each hit; this name is how Python
    # spells that private method from outside the class, so this replaces it.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()
