"""bench/load.py pools the latencies of its alternating slices: check the arithmetic."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import load  # noqa: E402  (bench/load.py)


def run(requests: int, latencies_us, max_us: int, seconds: float = 2.0) -> dict:
    """A wrk run as bench/wrk_common.lua reports it; latencies_us(p) gives its percentiles."""
    points = [latencies_us(p) for p in load.PERCENTILES]
    return {"requests": requests, "duration_us": int(seconds * 1e6), "percentiles_us": points,
            "max_us": max_us, "rps": requests / seconds,
            **{key: 0 for key in load.COUNTS if key not in ("requests", "duration_us")}}


def test_pooling_identical_runs_changes_nothing():
    uniform = run(1000, lambda p: 1000 * p, 100_000)  # latencies spread evenly over 0-100 ms
    pooled = load.pooled([uniform, uniform, uniform])
    assert pooled["p50_ms"] == pytest.approx(50, rel=1e-3)
    assert pooled["p99_ms"] == pytest.approx(99, rel=1e-3)
    assert pooled["rps"] == pytest.approx(500)
    assert pooled["slices_rps"] == [500, 500, 500]


def test_runs_are_weighed_by_their_requests():
    fast = run(900, lambda p: 10 * p, 1000)             # 0-1 ms
    slow = run(100, lambda p: 100_000 + 10 * p, 101_000)  # 100-101 ms
    pooled = load.pooled([fast, slow])
    assert pooled["p50_ms"] == pytest.approx(0.5556, rel=1e-2)  # the fast run's 55.6th percentile
    assert pooled["p99_ms"] == pytest.approx(100.9, rel=1e-2)   # the slow run's 90th
    assert pooled["requests"] == 1000 and pooled["rps"] == pytest.approx(250)


def test_slices_alternate_which_app_goes_first():
    order = []
    load.interleaved(lambda i: order.append(("bare", i)) or run(1, lambda p: p, 100),
                     lambda i: order.append(("ours", i)) or run(1, lambda p: p, 100), 3)
    assert order == [("bare", 0), ("ours", 0), ("ours", 1), ("bare", 1), ("bare", 2), ("ours", 2)]
