"""The rate limiter: counters that every worker on a machine shares (a SQLite file of their
own, quiz/rate_limit_storage.py), and which of its checks run on a request."""
import multiprocessing
import sqlite3
import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from quiz import create_app
from quiz.errors import in_words
from quiz.extensions import limiter
from quiz.rate_limit_storage import SharedFileStorage, shared_file_uri
from tests.conftest import CSRF_PATTERN, csrf_token, refusal_message, scenario


def storage_in(tmp_path) -> SharedFileStorage:
    return storage_from_string(shared_file_uri(str(tmp_path / "limits" / "counters.sqlite3")))


def test_the_app_counts_in_a_file_of_the_instance_folder_unless_given_redis():
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": ""})
    assert isinstance(limiter.storage, SharedFileStorage)
    assert limiter.storage.path == f"{app.instance_path}/rate-limits.sqlite3"
    create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})
    assert type(limiter.storage).__name__ == "RedisStorage"


def test_two_workers_count_against_one_limit(tmp_path):
    # Two storages on one file are what two gunicorn workers hold.
    first, second = storage_in(tmp_path), storage_in(tmp_path)
    twenty_a_minute = parse("20/minute")
    allowed = [FixedWindowRateLimiter(storage).hit(twenty_a_minute, "login", "203.0.113.7")
               for _ in range(11) for storage in (first, second)]
    assert allowed == [True] * 20 + [False, False]
    assert FixedWindowRateLimiter(first).hit(twenty_a_minute, "login", "203.0.113.8")  # its own


def _hit_many(uri: str, times: int, results) -> None:
    storage = storage_from_string(uri)
    results.put([storage.incr("paper/1", 60) for _ in range(times)])


def test_processes_hitting_at_once_each_get_a_different_count(tmp_path):
    """No two hits see the same total, so no two requests both take the last free place; a
    forked worker opens its own connection rather than using its parent's."""
    storage = storage_in(tmp_path)
    storage.incr("paper/1", 60)  # the parent holds a connection when it forks
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_hit_many, args=(shared_file_uri(storage.path), 200, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    counts = [count for _ in workers for count in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(counts) == list(range(2, 802))
    assert storage.get("paper/1") == 801


def test_threads_of_one_worker_hitting_at_once_each_get_a_different_count(tmp_path):
    # Threaded workers (WEB_THREADS above 1) share one storage; each thread opens its own
    # connection.
    storage = storage_in(tmp_path)
    counts, lock = [], threading.Lock()

    def hit_many():
        mine = [storage.incr("paper/1", 60) for _ in range(200)]
        with lock:
            counts.extend(mine)

    threads = [threading.Thread(target=hit_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) == list(range(1, 801))


def test_a_window_that_has_ended_starts_again(tmp_path):
    storage = storage_in(tmp_path)
    assert [storage.incr("paper/1", 0.05) for _ in range(3)] == [1, 2, 3]
    first_expiry = storage.get_expiry("paper/1")
    time.sleep(0.06)
    assert storage.get("paper/1") == 0  # ended: read as absent
    assert storage.incr("paper/1", 60) == 1
    assert storage.get_expiry("paper/1") > first_expiry + 59


def test_an_unknown_key_has_no_hits_and_ends_now(tmp_path):
    storage = storage_in(tmp_path)
    before = time.time()
    assert storage.get("nobody") == 0
    assert before <= storage.get_expiry("nobody") <= time.time()
    assert storage.check()


def test_ended_windows_are_swept_at_most_once_a_minute(tmp_path):
    storage = storage_in(tmp_path)
    storage.incr("paper/old", 0.01)  # the first hit sweeps; the next may not for a minute
    time.sleep(0.02)
    storage.incr("paper/new", 60)

    def keys():
        with sqlite3.connect(storage.path) as connection:
            return {key for (key,) in connection.execute("SELECT key FROM counter")}

    assert keys() == {"paper/old", "paper/new"}  # ended, not swept yet, and read as absent:
    assert storage.get("paper/old") == 0
    storage._next_sweep = time.time()  # a minute on
    storage.incr("paper/new", 60)
    assert keys() == {"paper/new"} and storage.get("paper/new") == 2


def test_clear_and_reset(tmp_path):
    storage = storage_in(tmp_path)
    for key in ("a", "b", "c"):
        storage.incr(key, 60)
    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.reset() == 2
    assert storage.get("b") == 0


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
    wait = int(refused.headers["Retry-After"])
    assert 50 <= wait <= 60  # the login's window: a minute, begun with the first try
    assert refusal_message(wait) in refused.get_data(as_text=True)


def test_the_wait_counts_from_when_the_window_started(limited_app):
    eleven_wrong_logins(limited_app)
    with sqlite3.connect(limiter.storage.path) as counters:  # the first try was 31 s ago
        counters.execute("UPDATE counter SET expires_at = ?", (time.time() + 29.5,))
    refused = eleven_wrong_logins(limited_app)[0]
    assert refused.status_code == 429
    assert 29 <= int(refused.headers["Retry-After"]) <= 31
    assert f"请{refused.headers['Retry-After']}秒后再试" in refused.get_data(as_text=True)


@pytest.mark.parametrize(("seconds", "words"), [
    (1, "1秒"), (59, "59秒"), (60, "1分钟"), (61, "2分钟"), (3599, "60分钟"), (3600, "1小时"),
    (86400, "24小时")])
def test_the_wait_in_words(seconds, words):
    assert in_words(seconds) == words


def test_an_app_wide_limit_keeps_the_limiters_request_hook(limited_app_with, demo, monkeypatch):
    manager = limiter.limit_manager
    # The limiter is one object for every app the tests build: put its defaults back after.
    monkeypatch.setattr(manager, "_default_limits", manager._default_limits)
    limited = limited_app_with(RATELIMIT_DEFAULT="2 per minute")
    assert limiter._check_request_limit in limited.before_request_funcs[None]
    client = limited.test_client()
    assert [client.get("/board/").status_code for _ in range(3)] == [200, 200, 429]


def test_under_gunicorn_both_workers_count_one_browsers_wrong_logins_together(gunicorn_server):
    """Twenty wrong logins at once from one browser, taken by both workers: ten are answered,
    ten refused. With a count in each worker's memory, each worker let ten through."""
    stats, lock = scenario.Counter(), scenario.threading.Lock()
    browser = scenario.Phone(gunicorn_server.port, "198.51.100.23", stats, lock)
    _status, _location, page = browser.request("GET", "/auth/login")
    form = [("csrf_token", CSRF_PATTERN.search(page).group(1)), ("username", "nobody"),
            ("password", "a-wrong-guess")]
    statuses = []

    def wrong_login():
        tab = scenario.Phone(gunicorn_server.port, browser.address, stats, lock)
        tab.cookies = dict(browser.cookies)
        status, _location, _text = tab._once("POST", "/auth/login", form, {})
        tab.close()
        with lock:
            statuses.append(status)

    tabs = [scenario.threading.Thread(target=wrong_login) for _ in range(20)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=60)
    assert sorted(statuses) == [400] * 10 + [429] * 10


def test_with_its_storage_unreachable_the_limiter_counts_in_memory_and_pages_still_answer(
        limited_app_with, monkeypatch):
    # The limiter is one object for every app the tests build: whatever this test marks dead
    # is put back after.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    limited = limited_app_with(RATELIMIT_STORAGE_URI="redis://127.0.0.1:9")  # nothing listens
    statuses = [response.status_code for response in eleven_wrong_logins(limited)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429  # still throttled, in memory
    assert limiter._storage_dead
