"""The few-seconds cache behind the leaderboards: fresh within its interval, recomputed after,
one computation when many threads ask at once, and off when configured to 0."""
import threading
import time

from quiz.extensions import db
from quiz.models import Unit, UnitTally
from quiz.shortcache import MAX_ENTRIES, ShortCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_for_its_seconds_then_recomputed():
    clock, calls = Clock(), []
    cache = ShortCache(clock)
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("k", 5, compute) == 1
    clock.now += 4.9
    assert cache.get("k", 5, compute) == 1
    clock.now += 0.2
    assert cache.get("k", 5, compute) == 2
    assert cache.get("other", 5, compute) == 3  # keys are separate


def test_zero_seconds_computes_every_time():
    calls = []
    cache = ShortCache(Clock())
    for _ in range(3):
        cache.get("k", 0, lambda: calls.append(1))
    assert len(calls) == 3


def test_many_threads_asking_at_once_compute_once():
    calls = []
    cache = ShortCache()
    start = threading.Barrier(8)

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return "figures"

    def ask(results):
        start.wait()
        results.append(cache.get("board", 5, slow))

    results = []
    threads = [threading.Thread(target=ask, args=(results,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["figures"] * 8 and len(calls) == 1


def test_the_number_of_entries_is_bounded():
    cache = ShortCache(Clock())
    for number in range(MAX_ENTRIES + 10):
        cache.get(number, 5, lambda: "x")
    assert len(cache._values) <= MAX_ENTRIES


def test_with_the_cache_on_the_board_shows_new_totals_after_the_interval(app, client, demo):
    app.config["LEADERBOARD_CACHE_SECONDS"] = 0.5
    with app.app_context():
        unit = db.session.scalar(db.select(Unit).filter_by(code="S01C01"))
        db.session.add(UnitTally(campaign_id=demo["campaign_id"], unit_id=unit.id, participants=1,
                                 attempts=1, best_score_sum=90, points_total=90))
        db.session.commit()

    def board() -> str:
        return client.get("/board/?kind=community").get_data(as_text=True)

    def api_attempts() -> int:
        return client.get("/api/leaderboard?kind=community").get_json()["totals"]["attempts"]

    assert "参与 1 人 · 1 人次" in board() and api_attempts() == 1
    with app.app_context():
        tally = db.session.scalar(db.select(UnitTally))
        tally.participants, tally.attempts = 2, 2
        db.session.commit()
    assert "参与 1 人 · 1 人次" in board() and api_attempts() == 1  # still the kept figures
    other_metric = client.get("/board/?kind=community&metric=attempts")  # a key of its own
    assert "参与 2 人 · 2 人次" in other_metric.get_data(as_text=True)
    time.sleep(0.6)
    assert "参与 2 人 · 2 人次" in board() and api_attempts() == 2


def test_a_waiting_message_is_shown_to_its_visitor_and_never_cached_for_others(app, demo):
    app.config["LEADERBOARD_CACHE_SECONDS"] = 60
    first, other = app.test_client(), app.test_client()
    assert "单位排行榜" in other.get("/board/").get_data(as_text=True)  # fills the cache
    with first.session_transaction() as session:
        session["_flashes"] = [("message", "已退出登录。")]
    assert "已退出登录。" in first.get("/board/").get_data(as_text=True)
    assert "已退出登录。" not in other.get("/board/").get_data(as_text=True)


def test_while_one_thread_refreshes_the_others_get_the_previous_value_at_once():
    clock = Clock()
    cache = ShortCache(clock)
    cache.get("board", 5, lambda: "old figures")
    clock.now += 6  # expired
    refreshing, release = threading.Event(), threading.Event()

    def slow_refresh():
        refreshing.set()
        release.wait(5)
        return "new figures"

    refresher = threading.Thread(target=lambda: cache.get("board", 5, slow_refresh))
    refresher.start()
    assert refreshing.wait(5)
    started = time.monotonic()
    assert cache.get("board", 5, lambda: "must not run") == "old figures"
    assert time.monotonic() - started < 0.5  # it did not wait for the refresh
    release.set()
    refresher.join()
    assert cache.get("board", 5, lambda: "must not run") == "new figures"


def test_the_shared_pages_are_compressed_for_browsers_that_accept_it(client, demo):
    import gzip

    for url in ("/board/", "/api/leaderboard"):
        plain = client.get(url)
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert plain.headers.get("Content-Encoding") is None
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.data) == plain.data
        assert len(packed.data) < len(plain.data) / 3
    refused = client.get("/board/", headers={"Accept-Encoding": "gzip;q=0"})
    assert refused.headers.get("Content-Encoding") is None
