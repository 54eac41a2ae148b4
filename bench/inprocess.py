"""In-process cost per request: our paper page and submission next to the bare page and insert.

No gunicorn, no wrk: each request goes through Flask's test client in this one process, so
the figures are the application's own CPU per request (and a profile of it with --profile).
bench/load.py measures the same requests under gunicorn at 64 connections.

    .venv/bin/python bench/inprocess.py                    # 300 papers, mean ms per request
    .venv/bin/python bench/inprocess.py --profile submit   # and cProfile's top functions

The database is a fresh demo district (`flask db upgrade`, `flask bank load`, `flask demo
seed`) in bench/work/inprocess/, built once (--rebuild to redo it); papers are prepared as in
bench/load.py, each opened once so its cookie is the one a phone holds.
"""
import argparse
import cProfile
import io
import os
import pstats
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work" / "inprocess"
sys.path[:0] = [str(ROOT), str(BENCH)]

import load  # noqa: E402  (bench/load.py: make_app, prepare_attempts, the time limit)


def demo_database(rebuild: bool) -> str:
    path = WORK / "demo.sqlite3"
    if rebuild or not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "FLASK_APP": "wsgi.py",
               "SECRET_KEY": load.SECRET_KEY, "ADMIN_PASSWORD": "bench-admin-pass-1"}
        flask = str(Path(sys.executable).with_name("flask"))
        for command in (["db", "upgrade"], ["bank", "load"], ["demo", "seed"]):
            subprocess.run([flask, *command], env=env, cwd=ROOT, check=True,
                           capture_output=True)  # CalledProcessError carries it if one fails
        with sqlite3.connect(path) as connection:  # prepared papers must stay open
            connection.execute("UPDATE campaigns SET time_limit_seconds = ?",
                               (load.BENCH_TIME_LIMIT_SECONDS,))
    return f"sqlite:///{path}"


def bare_client():
    os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bare.sqlite3'}"
    import bare_app  # reads DATABASE_URL when imported, as under gunicorn

    return bare_app.app.test_client()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--profile", choices=("page", "submit"))
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    url = demo_database(args.rebuild)
    prepared = load.prepare_attempts(url, args.papers, seed=int(time.time()))
    ours = load.make_app(url).test_client(use_cookies=False)  # each paper sends its own cookie
    bare = bare_client()

    def pages():
        for paper in prepared:
            response = ours.get(f"/a/{paper['token']}", headers={"Cookie": paper["cookie"]})
            assert response.status_code == 200, response.status_code

    def submissions():
        for paper in prepared:
            response = ours.post(f"/a/{paper['token']}/submit", data=paper["body"], headers={
                "Cookie": paper["cookie"], "Content-Type": "application/x-www-form-urlencoded"})
            assert response.status_code == 302, response.status_code

    def bare_pages():
        for _ in prepared:
            assert bare.get("/").status_code == 200

    def bare_inserts():
        for _ in prepared:
            assert bare.post("/insert").status_code == 201

    def milliseconds_per_request(requests) -> float:
        started = time.perf_counter()
        requests()
        return (time.perf_counter() - started) / len(prepared) * 1000

    pages()  # warm the worker's caches as a running server's are
    results = {"bare page": milliseconds_per_request(bare_pages),
               "paper page": milliseconds_per_request(pages),
               "bare insert": milliseconds_per_request(bare_inserts)}
    if args.profile == "page":
        profile(pages)
    # Submissions last: each paper can be submitted once.
    if args.profile == "submit":
        profile(submissions)
    else:
        results["submission"] = milliseconds_per_request(submissions)
    for name, value in results.items():
        print(f"{name:12} {value:6.3f} ms per request ({len(prepared)} requests)")


def profile(requests) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    requests()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(50)
    print(out.getvalue())


if __name__ == "__main__":
    main()
