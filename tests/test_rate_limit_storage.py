"""The in-memory rate-limit storage: same counting as limits' own, no thread per hit."""
import time

from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from quiz import rate_limit_storage
from quiz.extensions import limiter
from quiz.rate_limit_storage import SweptMemoryStorage


def settled(storage: MemoryStorage) -> MemoryStorage:
    """Let the timer every MemoryStorage starts when it is built run out."""
    storage.timer.join()
    return storage


def test_the_app_counts_in_the_swept_storage(limited_app):
    with limited_app.app_context():
        assert isinstance(limiter.storage, SweptMemoryStorage)
    assert isinstance(storage_from_string("swept-memory://"), SweptMemoryStorage)


def test_hits_start_no_thread():
    storage = settled(SweptMemoryStorage())
    timer = storage.timer
    for number in range(50):
        storage.incr(f"paper/{number}", 60)
    assert storage.timer is timer and not timer.is_alive()


def test_limits_own_storage_starts_a_thread_after_a_hit():
    # The behaviour the class above replaces: if limits stops doing this, it can be retired.
    storage = settled(MemoryStorage())
    timer = storage.timer
    storage.incr("paper/1", 60)
    assert storage.timer is not timer


def test_a_limit_is_enforced_as_before():
    limiter_strategy = FixedWindowRateLimiter(settled(SweptMemoryStorage()))
    twenty_a_minute = parse("20/minute")
    allowed = [limiter_strategy.hit(twenty_a_minute, "paper", "abc") for _ in range(21)]
    assert allowed == [True] * 20 + [False]
    assert limiter_strategy.hit(twenty_a_minute, "paper", "def")  # another paper, its own count


def test_expired_counts_are_swept_at_most_once_a_second():
    storage = settled(SweptMemoryStorage())
    storage.incr("paper/old", 0.01)  # the first hit sweeps; the next may not for a second
    time.sleep(0.02)
    storage.incr("paper/new", 60)
    assert "paper/old" in storage.storage  # expired, but not swept yet
    assert storage.get("paper/old") == 0  # and read as absent all the same
    storage.incr("paper/older", 0.01)
    time.sleep(0.02)
    storage._next_sweep = time.monotonic() - rate_limit_storage.SWEEP_EVERY_SECONDS  # a second on
    storage.incr("paper/new", 60)
    assert "paper/older" not in storage.storage and storage.storage["paper/new"] == 2
