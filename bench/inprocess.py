"""In-process cost per request: our paper page and submission next to the bare page and insert.

No gunicorn, no wrk: each request goes through Flask's test client in this one process, so
the figures are the application's own CPU per request (and a profile of it with --profile).
bench/load.py measures the same requests under gunicorn at 64 connections.

    .venv/bin/python bench/inprocess.py                    # 5 rounds of 300 papers each
    .venv/bin/python bench/inprocess.py --profile submit   # cProfile's top functions instead
    .venv/bin/python bench/inprocess.py --engine postgresql  # on PostgreSQL (database bench)

The database is a fresh demo district (`flask db upgrade`, `flask bank load`, `flask demo
seed`) in bench/work/inprocess/, or with --engine postgresql in schema inprocess_ours of the
database bench (the bare app's table in schema inprocess_bare), built once (--rebuild to redo
it); papers are prepared as in bench/load.py, each opened once so its cookie is the one a phone
holds.
"""
import argparse
import cProfile
import io
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work" / "inprocess"
sys.path[:0] = [str(ROOT), str(BENCH)]

import load  # noqa: E402  (bench/load.py: make_app, prepare_attempts, the time limit)


PG_SCHEMA = "inprocess_ours"


def demo_database(engine: str, rebuild: bool) -> str:
    path = WORK / "demo.sqlite3"
    if engine == "postgresql":
        with load.pg_connect() as connection:
            built = connection.execute("SELECT 1 FROM information_schema.tables WHERE "
                                       "table_schema = %s AND table_name = 'campaigns'",
                                       (PG_SCHEMA,)).fetchone()
        url = load.pg_url(PG_SCHEMA) if built and not rebuild else load.pg_fresh_schema(PG_SCHEMA)
    else:
        url = f"sqlite:///{path}"
        built = path.exists()
        if rebuild or not built:
            WORK.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    if rebuild or not built:
        env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py",
               "SECRET_KEY": load.SECRET_KEY, "ADMIN_PASSWORD": "bench-admin-pass-1"}
        flask = str(Path(sys.executable).with_name("flask"))
        for command in (["db", "upgrade"], ["bank", "load"], ["demo", "seed"]):
            subprocess.run([flask, *command], env=env, cwd=ROOT, check=True,
                           capture_output=True)  # CalledProcessError carries it if one fails
        # Prepared papers must stay open.
        if engine == "postgresql":
            with load.pg_connect(PG_SCHEMA) as connection:
                connection.execute("UPDATE campaigns SET time_limit_seconds = %s",
                                   (load.BENCH_TIME_LIMIT_SECONDS,))
        else:
            with sqlite3.connect(path) as connection:
                connection.execute("UPDATE campaigns SET time_limit_seconds = ?",
                                   (load.BENCH_TIME_LIMIT_SECONDS,))
    return url


def bare_client(engine: str):
    os.environ["DATABASE_URL"] = (load.pg_fresh_schema("inprocess_bare") if engine == "postgresql"
                                  else f"sqlite:///{WORK / 'bare.sqlite3'}")
    import bare_app  # reads DATABASE_URL when imported, as under gunicorn

    return bare_app.app.test_client()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5,
                        help="measure each case this often, interleaved; print the best and median")
    parser.add_argument("--profile", choices=("page", "submit"))
    parser.add_argument("--sort", default="cumulative", help="pstats order for --profile")
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    url = demo_database(args.engine, args.rebuild)
    rounds = 1 if args.profile else args.rounds
    prepared = load.prepare_attempts(url, args.papers * rounds, seed=int(time.time()))
    batches = [prepared[start:start + args.papers]
               for start in range(0, len(prepared), args.papers)]
    # Rate limits on, as under gunicorn; each paper sends its own cookie.
    ours = load.make_app(url, rate_limits=True).test_client(use_cookies=False)
    bare = bare_client(args.engine)

    def pages(batch):
        for paper in batch:
            response = ours.get(f"/a/{paper['token']}", headers={"Cookie": paper["cookie"]})
            assert response.status_code == 200, response.status_code

    def submissions(batch):
        for paper in batch:
            response = ours.post(f"/a/{paper['token']}/submit", data=paper["body"], headers={
                "Cookie": paper["cookie"], "Content-Type": "application/x-www-form-urlencoded"})
            assert response.status_code == 302, response.status_code

    def bare_pages(batch):
        for _ in batch:
            assert bare.get("/").status_code == 200

    def bare_inserts(batch):
        for _ in batch:
            assert bare.post("/insert").status_code == 201

    def milliseconds_per_request(requests, batch) -> float:
        # CPU time of this process: a neighbour on the machine stealing the core is not counted.
        started = time.process_time()
        requests(batch)
        return (time.process_time() - started) / len(batch) * 1000

    for batch in batches:
        pages(batch)  # warm the worker's caches as a running server's are
    if args.profile:
        profile(pages if args.profile == "page" else submissions, batches[0], args.sort)
        return
    cases = {"bare page": bare_pages, "paper page": pages, "bare insert": bare_inserts,
             "submission": submissions}  # submissions last in each round: once per paper
    results = {name: [] for name in cases}
    for batch in batches:
        for name, requests in cases.items():
            results[name].append(milliseconds_per_request(requests, batch))
    for name, values in results.items():
        print(f"{name:12} best {min(values):6.3f}  median {statistics.median(values):6.3f} ms "
              f"per request ({len(values)} rounds of {args.papers} requests)")
    for ours_case, bare_case in (("paper page", "bare page"), ("submission", "bare insert")):
        ours_values, bare_values = results[ours_case], results[bare_case]
        best = min(bare_values) / min(ours_values)
        median = statistics.median(bare_values) / statistics.median(ours_values)
        print(f"{ours_case} / {bare_case}: best {best:.2f}, median {median:.2f} "
              "(as a throughput ratio, like bench/load.py's)")


def profile(requests, batch, order: str) -> None:
    # PROFILE_CLOCK=cpu: count CPU time only, so that waiting for the database is left out.
    clock = time.process_time if os.environ.get("PROFILE_CLOCK") == "cpu" else time.perf_counter
    profiler = cProfile.Profile(clock)
    profiler.enable()
    requests(batch)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats(order)
    stats.print_stats(50)
    if os.environ.get("CALLERS"):
        stats.print_callers(os.environ["CALLERS"])
    print(out.getvalue())


if __name__ == "__main__":
    main()
