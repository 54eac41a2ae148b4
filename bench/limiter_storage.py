"""What a rate-limit hit costs a worker: limits' memory:// (each worker counting alone) next
to shared-file:// (quiz/rate_limit_storage.py, the workers of a machine counting together).

1. CPU per second at about 300 hits a second, the rate of one busy worker, with 100, 6,000 and
   20,000 keys (one per paper that saved or submitted in the last minute); the loop alone
   (sleeping between hits) is the floor both share.
2. Microseconds per hit, hits back to back: alone, and while another process hits the same
   file as fast as it can (two workers at full load, the worst case for taking turns).

    .venv/bin/python bench/limiter_storage.py
"""
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from limits.storage import Storage, storage_from_string  # noqa: E402

from quiz.rate_limit_storage import shared_file_uri  # noqa: E402

SECONDS = 2.0
PAUSE = 0.003  # between hits: about 300 a second
BACK_TO_BACK = 20000


def cpu_milliseconds_per_second(storage: Storage | None, keys: list[str]) -> tuple[float, float]:
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


def microseconds_per_hit(storage: Storage, keys: int = 6000) -> float:
    began = time.perf_counter()
    for number in range(BACK_TO_BACK):
        storage.incr(f"LIMITER/paper/{number % keys}/20/1/minute", 60)
    return (time.perf_counter() - began) * 1e6 / BACK_TO_BACK


def hammer(uri: str, stop) -> None:
    storage = storage_from_string(uri)
    number = 0
    while not stop.is_set():
        storage.incr(f"LIMITER/other/{number % 6000}/20/1/minute", 60)
        number += 1


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="limiter-bench-"))
    floor, _ = cpu_milliseconds_per_second(None, [])
    print(f"the loop alone: {floor:.0f} ms of CPU per second")
    for round_number in (1, 2):
        for name in ("memory://", "shared-file://"):
            for key_count in (100, 6000, 20000):
                uri = "memory://" if name == "memory://" else \
                    shared_file_uri(str(folder / f"cpu-{round_number}-{key_count}.sqlite3"))
                keys = [f"LIMITER/paper/{number}/20/1/minute" for number in range(key_count)]
                cpu, rate = cpu_milliseconds_per_second(storage_from_string(uri), keys)
                print(f"round {round_number}  {name:15} {key_count:6} keys  {rate:4.0f} hits/s  "
                      f"{cpu:4.0f} ms of CPU per second", flush=True)

    context = multiprocessing.get_context("fork")
    for name in ("memory://", "shared-file://", "shared-file:// beside another process"):
        timings = []
        for round_number in range(3):
            uri = "memory://" if name == "memory://" else \
                shared_file_uri(str(folder / f"hits-{name[:6]}-{round_number}.sqlite3"))
            storage = storage_from_string(uri)
            stop, other = context.Event(), None
            if "another" in name:
                other = context.Process(target=hammer, args=(uri, stop))
                other.start()
                time.sleep(0.3)
            timings.append(microseconds_per_hit(storage))
            if other:
                stop.set()
                other.join()
        print(f"{name:38} µs per hit, back to back: {' '.join(f'{t:.1f}' for t in timings)}"
              f"  (median {statistics.median(timings):.1f})", flush=True)


if __name__ == "__main__":
    main()
