"""gunicorn's worker model and count: the paper page (or the submission) under several
settings, ours next to bare.

For each setting (worker class, workers, threads) it starts both apps as bench/load.py does,
runs wrk on the paper page and the bare page (--case submit: the submission, each run with
papers of its own, and the bare insert), and reports throughput, p99, and the CPU the
gunicorn processes spent per request (from /proc, so wrk's own CPU is not counted; on
PostgreSQL also the database server's). Settings
are taken in turn and the whole list repeated, so a noisy stretch does not fall on one of them.

    .venv/bin/python bench/workers.py                                   # SQLite, 2 rounds
    .venv/bin/python bench/workers.py --engine postgresql --settings gthread:5:4,gthread:2:8
    .venv/bin/python bench/workers.py --case submit --settings sync:2:1,gthread:2:8

Run bench/load.py once first: it builds the 1,000,000-attempt database (and, for
PostgreSQL, the schema load_ours) that this script reuses.
"""
import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: servers, databases, wrk, prepared papers)
import scenario  # noqa: E402  (bench/scenario.py: a gunicorn master's workers)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    return [pid, *scenario.worker_pids(pid)]


def cpu_seconds(pids: list[int]) -> float:
    """User and system time of these processes (a worker that exited meanwhile counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (its backends included), read from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def measure(server: load.Server, args, data: Path | None, path: str = "/") -> dict:
    pids = process_tree(server.process.pid)
    database = postgres_pids() if args.engine == "postgresql" else []
    before, database_before = cpu_seconds(pids), cpu_seconds(database)
    script = "wrk_post.lua" if args.case == "submit" else "wrk_get.lua"
    result = load.wrk(server.base + path, script, args.connections, args.duration,
                      data=data, reuse=args.case != "submit")
    result["cpu_ms_per_request"] = (cpu_seconds(pids) - before) / result["requests"] * 1000
    result["db_cpu_ms_per_request"] = ((cpu_seconds(database) - database_before)
                                       / result["requests"] * 1000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--settings", default="sync:2:1,gthread:2:8,gthread:5:4",
                        help="worker class:workers:threads, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--case", default="page", choices=("page", "submit"))
    parser.add_argument("--submit-pool", type=int, default=2500,
                        help="papers per submission run: more than ours sends in --duration")
    args = parser.parse_args()

    if args.engine == "sqlite":
        ours_url = load.sqlite_copy(load.pristine_sqlite(False), "workers.sqlite3")
    else:
        ours_url = load.pg_url("load_ours")
    bare_url = load.bare_database(args.engine)
    settings = args.settings.split(",")
    if args.case == "page":
        papers = load.WORK / f"workers-{args.engine}-page.tsv"
        load.write_lines(papers, load.prepare_attempts(ours_url, 200, seed=7), "page")
    else:  # one file per run: a paper is submitted once
        runs = args.rounds * len(settings)
        every = load.prepare_attempts(ours_url, runs * args.submit_pool, seed=7)
        submit_files = []
        for run in range(runs):
            submit_files.append(load.WORK / f"workers-{args.engine}-submit-{run}.tsv")
            load.write_lines(submit_files[-1],
                             every[run * args.submit_pool:(run + 1) * args.submit_pool], "submit")
    print(f"{args.engine}, {args.case}, {args.connections} connections, {args.duration} s per run")
    for round_number in range(args.rounds):
        for setting_number, setting in enumerate(settings):
            if args.case == "submit":
                papers = submit_files[round_number * len(settings) + setting_number]
            worker_class, workers, threads = setting.split(":")
            env = {"WEB_WORKERS": workers, "WEB_THREADS": threads}
            kind = ("-k", worker_class)
            ours = load.Server("workers-ours", "wsgi:app", ours_url, extra_args=kind, env=env)
            bare = load.Server("workers-bare", "bare_app:app", bare_url, env=env,
                               extra_args=("--pythonpath", str(load.BENCH), *kind))
            try:
                ours.wait("/healthz")
                bare.wait("/")
                load.wrk(bare.base + "/", "wrk_get.lua", args.connections, 2)  # warm up
                if args.case == "page":
                    load.wrk(ours.base + "/", "wrk_get.lua", args.connections, 2, data=papers)
                b = measure(bare, args, None, "/insert" if args.case == "submit" else "/")
                o = measure(ours, args, papers)
            finally:
                ours.stop()
                bare.stop()
            database = ("" if args.engine == "sqlite" else
                        f" (PostgreSQL: bare {b['db_cpu_ms_per_request']:.2f}, "
                        f"ours {o['db_cpu_ms_per_request']:.2f} ms CPU/request)")
            print(f"  {worker_class:7} {workers} x {threads}: bare {b['rps']:5.0f} req/s "
                  f"p99 {b['p99_ms']:6.1f} ms, {b['cpu_ms_per_request']:.2f} ms CPU/request, "
                  f"errors {b['errors']} | ours {o['rps']:5.0f} req/s p99 {o['p99_ms']:6.1f} ms, "
                  f"{o['cpu_ms_per_request']:.2f} ms CPU/request, errors {o['errors']}, "
                  f"sent twice {o['exhausted']} | "
                  f"ours/bare {o['rps'] / b['rps']:.2f}{database}", flush=True)


if __name__ == "__main__":
    main()
