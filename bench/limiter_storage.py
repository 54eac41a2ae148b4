"""CPU that the in-memory rate-limit storage costs a worker, limits' memory:// next to ours.

Each case keeps N keys (one per paper that saved or submitted in the last minute), then hits
them round-robin at about 300 a second for 2 seconds, the rate of one busy worker, and prints
this process's CPU time per second of it: the loop itself, plus whatever threads the storage
starts. The loop alone (sleeping between hits) is the floor both share.

    .venv/bin/python bench/limiter_storage.py
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from limits.storage import MemoryStorage  # noqa: E402

from quiz.rate_limit_storage import SweptMemoryStorage  # noqa: E402

SECONDS = 2.0
PAUSE = 0.003  # between hits: about 300 a second


def cpu_milliseconds_per_second(storage: MemoryStorage | None,
                                keys: list[str]) -> tuple[float, float]:
    """CPU ms per second and hits per second; no storage and no keys: the loop alone."""
    for key in keys:
        storage.incr(key, 60)
    time.sleep(0.1)
    began_cpu, began, hits = time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - began < SECONDS:
        if keys:
            storage.incr(keys[hits % len(keys)], 60)
        hits += 1
        time.sleep(PAUSE)
    elapsed = time.perf_counter() - began
    return (time.process_time() - began_cpu) * 1000 / elapsed, hits / elapsed


def main() -> None:
    floor, _ = cpu_milliseconds_per_second(None, [])
    print(f"the loop alone: {floor:.0f} ms of CPU per second")
    for round_number in (1, 2):
        for storage_class in (MemoryStorage, SweptMemoryStorage):
            for key_count in (100, 6000, 20000):
                keys = [f"LIMITER/paper/{number}/20/1/minute" for number in range(key_count)]
                cpu, rate = cpu_milliseconds_per_second(storage_class(), keys)
                print(f"round {round_number}  {storage_class.__name__:19} {key_count:6} keys  "
                      f"{rate:4.0f} hits/s  {cpu:4.0f} ms of CPU per second")


if __name__ == "__main__":
    main()
