"""The rate limiter: its in-memory storage (same counting as limits' own, no thread per hit),
and which of its checks run on a request."""
import time

from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from quiz import rate_limit_storage
from quiz.extensions import limiter
from quiz.rate_limit_storage import SweptMemoryStorage
from tests.conftest import csrf_token


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


def eleven_wrong_logins(app):
    client = app.test_client()
    form = {"csrf_token": csrf_token(client, "/auth/login"), "username": "nobody",
            "password": "a-wrong-guess"}
    return [client.post("/auth/login", data=form) for _ in range(11)]


def test_views_keep_their_limits_without_the_limiters_request_hook(limited_app):
    assert limiter._check_request_limit not in limited_app.before_request_funcs[None]
    statuses = [response.status_code for response in eleven_wrong_logins(limited_app)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429  # "10 per minute" on the login


def test_a_refusal_says_when_to_come_back_and_other_answers_carry_no_limit_headers(limited_app):
    responses = eleven_wrong_logins(limited_app)
    assert not [name for name, _value in responses[0].headers if name.startswith("X-RateLimit")]
    refused = responses[10]
    assert refused.headers["Retry-After"] == "60"  # the login's window: a minute
    assert "操作太频繁了" in refused.get_data(as_text=True)


def test_an_app_wide_limit_keeps_the_limiters_request_hook(limited_app_with, demo, monkeypatch):
    manager = limiter.limit_manager
    # The limiter is one object for every app the tests build: put its defaults back after.
    monkeypatch.setattr(manager, "_default_limits", manager._default_limits)
    limited = limited_app_with(RATELIMIT_DEFAULT="2 per minute")
    assert limiter._check_request_limit in limited.before_request_funcs[None]
    client = limited.test_client()
    assert [client.get("/board/").status_code for _ in range(3)] == [200, 200, 429]
