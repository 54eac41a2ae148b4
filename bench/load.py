"""Load benchmark: our app next to a bare Flask app, same gunicorn settings, wrk at 64 connections.

Every figure is a ratio ours / bare. Each run alternates short slices of the two apps (5 of
2 s each by default, bare first in one slice and ours first in the next), so a neighbour's
burst on the machine falls on both alike; throughput and latency percentiles are those of
all the slices together:

  page     GET /a/<token> (a started paper, with its session cookie)  vs  bare GET / (3 KB page)
  submit   POST /a/<token>/submit (grades, closes the paper, updates the unit totals; a fresh
           attempt per request)                                          vs  bare POST /insert
  board    GET /board/ at 1,000,000 attempts                            vs  bare GET /
  api      GET /api/leaderboard at 1,000,000 attempts                   vs  bare GET /

Our database is bench/leaderboard.py's build(1_000_000) (demo district + 300 communities,
333,333 people, 1,000,000 submitted attempts with their running totals) plus the question bank
(`flask bank load`); on PostgreSQL the same rows are copied into schema load_ours of the
database `bench`. The bare app gets its own database (schema load_bare).

    apt-get install -y wrk
    createdb -h 127.0.0.1 -U postgres bench          # once, for --engines ...,postgresql
    .venv/bin/python bench/load.py                   # SQLite and PostgreSQL, 2 runs each
    .venv/bin/python bench/load.py --engines sqlite --runs 1 --duration 5   # a quick look

Results go to bench/work/load/results.json (all numbers) and are printed as a Markdown table;
bench/results-load.md is written by hand from them.
"""
import argparse
import bisect
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work" / "load"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from scenario import fresh_rate_limit_counters  # noqa: E402  (bench/scenario.py)

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
SECRET_KEY = "bench-load-secret"
# Prepared papers stay open for the whole benchmark (the contest's 150 s would expire while
# thousands are prepared); the time limit only decides whether the answers count.
BENCH_TIME_LIMIT_SECONDS = 6 * 3600
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


# ---------------------------------------------------------------- databases

def pg_url(schema: str) -> str:
    return f"{PG_BASE}?options=-csearch_path%3D{schema}"


def make_app(url: str, rate_limits: bool = False):
    """The app in this process; preparing papers goes around the rate limits, measuring not."""
    from quiz import create_app
    settings = {"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url,
                "RATELIMIT_ENABLED": rate_limits, "TESTING": False}
    if rate_limits:
        settings["RATELIMIT_STORAGE_URI"] = fresh_rate_limit_counters(WORK / "in-process.limits")
    return create_app(settings)


def schema_fingerprint() -> str:
    """A short hash of the models' tables as SQLite creates them: a pristine database built
    for another schema is not reused."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    from quiz.extensions import db
    tables = "\n".join(str(CreateTable(table).compile(dialect=sqlite.dialect()))
                       for table in db.metadata.sorted_tables)
    return hashlib.sha256(tables.encode()).hexdigest()[:10]


def pristine_sqlite(rebuild: bool) -> Path:
    """bench/leaderboard.py's 1,000,000-attempt database plus the question bank, built once
    per schema."""
    path = WORK / f"pristine-1000000-{schema_fingerprint()}.sqlite3"
    if path.exists() and not rebuild:
        return path
    import leaderboard  # bench/leaderboard.py

    from quiz.bank_loader import load_bank
    from quiz.extensions import db
    from quiz.models import Campaign

    leaderboard.WORK = WORK  # build into our own folder, leave its file alone
    began = time.perf_counter()
    app, _campaign_id = leaderboard.build(1_000_000)
    with app.app_context():
        load_bank(app.config["QUESTION_BANK_DIR"])
        campaign = db.session.scalar(db.select(Campaign).filter_by(is_active=True))
        campaign.time_limit_seconds = BENCH_TIME_LIMIT_SECONDS
        db.session.commit()
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    (WORK / "leaderboard-1000000.sqlite3").replace(path)
    print(f"built {path} in {time.perf_counter() - began:.0f} s", flush=True)
    return path


def sqlite_copy(pristine: Path, name: str) -> str:
    target = WORK / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, target)
    return f"sqlite:///{target}"


def pg_connect(schema: str | None = None):
    import psycopg
    options = f"-csearch_path={schema}" if schema else ""
    return psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=bench",
                           options=options, autocommit=True)


def pg_fresh_schema(schema: str) -> str:
    with closing(pg_connect()) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    return pg_url(schema)


def pg_copy_of(pristine: Path, schema: str) -> str:
    """The pristine SQLite database's rows in a fresh PostgreSQL schema (same ids)."""
    from quiz.extensions import db

    url = pg_fresh_schema(schema)
    app = make_app(url)
    with app.app_context():
        db.create_all()
        tables = [table.name for table in db.metadata.sorted_tables]
        db.engine.dispose()
    began = time.perf_counter()
    source = sqlite3.connect(pristine)
    present = {row[0] for row in
               source.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    with closing(pg_connect(schema)) as conn:
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # no FK order to respect
            cur.execute("SET TIME ZONE 'UTC'")  # SQLite keeps naive UTC timestamps
            for table in tables:
                if table not in present:
                    continue
                columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
                pg_columns = {row[0] for row in cur.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                    "AND table_name = %s", (schema, table))}
                columns = [name for name in columns if name in pg_columns]
                names = ", ".join(f'"{name}"' for name in columns)
                with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in source.execute(f'SELECT {names} FROM "{table}"'):
                        copy.write_row(row)
                if "id" in columns:
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
    source.close()
    print(f"copied into PostgreSQL schema {schema} in {time.perf_counter() - began:.0f} s",
          flush=True)
    return url


def bare_database(engine: str) -> str:
    if engine == "sqlite":
        target = WORK / "bare.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{target}"
    else:
        url = pg_fresh_schema("load_bare")
    subprocess.run([PYTHON, str(BENCH / "bare_app.py")], check=True, cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)
    return url


# ---------------------------------------------------------------- prepared papers

def prepare_attempts(url: str, count: int, seed: int) -> list[dict]:
    """Start `count` papers through the app's own start_or_resume(), one new person each, and
    mint each person's session cookie and CSRF token with the app's own serializer."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from quiz.attempts import new_token, start_or_resume
    from quiz.extensions import db
    from quiz.models import Campaign, QuestionType, Unit, UnitKind

    rng = random.Random(seed)
    app = make_app(url)
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    prepared = []
    with app.app_context():
        from quiz.models import Participant

        campaign = db.session.scalar(db.select(Campaign).filter_by(is_active=True))
        unit_ids = list(db.session.scalars(
            db.select(Unit.id).where(Unit.kind != UnitKind.DISTRICT, Unit.is_active)))
        campaign_id = campaign.id
        for number in range(count):
            campaign = db.session.get(Campaign, campaign_id)
            person = Participant(token=new_token(), name=f"压测{number}",
                                 unit_id=rng.choice(unit_ids))
            db.session.add(person)
            db.session.flush()  # start_or_resume() commits the person with the paper
            attempt = start_or_resume(campaign, person, rng=rng)
            answers = []
            for item in attempt.questions:
                positions = range(len(item.option_order))
                if item.version.question.qtype is QuestionType.MULTIPLE:
                    chosen = rng.sample(positions, rng.randint(1, len(positions)))
                else:
                    chosen = [rng.choice(positions)]
                answers += [f"q{item.position}={p}" for p in sorted(chosen)]
            with app.test_request_context():
                g.pop("csrf_token", None)  # flask_wtf caches the token in g; mint a new one
                session.permanent = True
                session["participant"] = person.token
                csrf = generate_csrf()
                cookie = serializer.dumps(dict(session))
            cookie = cookie_after_first_page(app, attempt.token, f"{cookie_name}={cookie}")
            prepared.append({"token": attempt.token, "cookie": cookie,
                             "body": "&".join([f"csrf_token={csrf}", *answers])})
            db.session.expunge_all()
        db.engine.dispose()
    return prepared


def cookie_after_first_page(app, token: str, cookie: str) -> str:
    """The cookie a phone holds once it has opened its paper: the first page may still add to
    the session (Flask-Login marks a long-lived session not fresh), later ones do not."""
    from http.cookies import SimpleCookie

    response = app.test_client(use_cookies=False).get(f"/a/{token}", headers={"Cookie": cookie})
    assert response.status_code == 200, response.status_code
    for header in response.headers.getlist("Set-Cookie"):
        for name, morsel in SimpleCookie(header).items():
            return f"{name}={morsel.value}"
    return cookie


def write_lines(path: Path, rows: list[dict], kind: str) -> None:
    with path.open("w") as out:
        for row in rows:
            if kind == "page":
                out.write(f"/a/{row['token']}\t{row['cookie']}\n")
            else:
                out.write(f"/a/{row['token']}/submit\t{row['cookie']}\t{row['body']}\n")


# ---------------------------------------------------------------- servers and wrk

def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn -c python:quiz.gunicorn_conf APP, on its own port and database."""

    def __init__(self, name: str, app_spec: str, url: str, extra_args=(), env=None):
        self.name, self.port = name, free_port()
        self.log = WORK / f"{name}.log"
        environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
                       "BIND": f"127.0.0.1:{self.port}",
                       "RATELIMIT_STORAGE_URI": fresh_rate_limit_counters(WORK / f"{name}.limits"),
                       **(env or {})}
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "python:quiz.gunicorn_conf", *extra_args, app_spec], cwd=ROOT,
            env=environment, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, path: str, timeout: float = 120) -> None:
        import urllib.request
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer {path} in {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master; it stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wrk(url: str, script: str, connections: int, duration: int, threads: int = 2,
        data: Path | None = None, reuse: bool = True) -> dict:
    env = {**os.environ, "WRK_DATA": str(data or ""), "WRK_THREADS": str(threads),
           "WRK_REUSE": "1" if reuse else "0", "WRK_LUA_DIR": str(BENCH)}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
               "-s", str(BENCH / script), url]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    seconds = result["duration_us"] / 1e6
    result.update(rps=result["requests"] / seconds, p50_ms=result["p50_us"] / 1000,
                  p99_ms=result["p99_us"] / 1000,
                  errors=result["c4xx"] + result["c5xx"] + result["connect_errors"]
                  + result["read_errors"] + result["write_errors"] + result["timeouts"])
    return result


PERCENTILES = [*range(1, 100), 99.5, 99.9]  # the points bench/wrk_common.lua prints
COUNTS = ("requests", "duration_us", "bytes", "connect_errors", "read_errors", "write_errors",
          "timeouts", "status_errors", "c2xx", "c3xx", "c4xx", "c5xx", "exhausted", "errors")


def share_at_or_below(latency_us: float, run: dict) -> float:
    """The share of a wrk run's requests that took at most this long, linear between its points."""
    xs = [0.0, *run["percentiles_us"], run["max_us"]]
    shares = [0.0, *(p / 100 for p in PERCENTILES), 1.0]
    i = bisect.bisect_right(xs, latency_us)
    if i >= len(xs):
        return 1.0
    x0, x1 = xs[i - 1], xs[i]
    return shares[i - 1] + (shares[i] - shares[i - 1]) * (latency_us - x0) / (x1 - x0)


def pooled_percentile(runs: list[dict], percent: float) -> float:
    """The percentile (µs) of all the runs' requests together, each run weighed by its count."""
    total = sum(run["requests"] for run in runs)
    if total == 0:
        return 0.0
    low, high = 0.0, float(max(run["max_us"] for run in runs))
    for _ in range(50):  # bisection: the pooled share below is monotonic in the latency
        middle = (low + high) / 2
        below = sum(run["requests"] * share_at_or_below(middle, run) for run in runs) / total
        low, high = (middle, high) if below < percent / 100 else (low, middle)
    return high


def pooled(runs: list[dict]) -> dict:
    """Several wrk runs of one app as if they were one."""
    result = {key: sum(run[key] for run in runs) for key in COUNTS}
    result.update(rps=result["requests"] / (result["duration_us"] / 1e6),
                  p50_ms=pooled_percentile(runs, 50) / 1000,
                  p99_ms=pooled_percentile(runs, 99) / 1000,
                  slices_rps=[round(run["rps"]) for run in runs])
    return result


def interleaved(measure_bare, measure_ours, slices: int) -> tuple[dict, dict]:
    """Alternate short runs of the two apps; each measure(slice_index) returns one wrk run."""
    bare, ours = [], []
    for index in range(slices):
        pair = ((bare, measure_bare), (ours, measure_ours))
        for runs, measure in pair if index % 2 == 0 else reversed(pair):
            runs.append(measure(index))
    return pooled(bare), pooled(ours)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------- the run

CASES = {  # name: (ours path or data kind, ours script, bare path, bare script)
    "page": ("page", "wrk_get.lua", "/", "wrk_get.lua"),
    "submit": ("submit", "wrk_post.lua", "/insert", "wrk_post.lua"),
    "board": ("/board/", "wrk_get.lua", "/", "wrk_get.lua"),
    "api": ("/api/leaderboard", "wrk_get.lua", "/", "wrk_get.lua"),
}


def run_engine(engine: str, pristine: Path, args) -> list[dict]:
    print(f"== {engine}: preparing databases", flush=True)
    if engine == "sqlite":
        ours_url = sqlite_copy(pristine, "ours.sqlite3")
    else:
        ours_url = pg_copy_of(pristine, "load_ours")
    bare_url = bare_database(engine)
    cases = [case for case in args.cases if engine == "sqlite" or case in args.pg_cases]
    page_file = submit_files = None
    seconds = args.duration // args.slices
    began = time.perf_counter()
    if "page" in cases:
        page_file = WORK / f"{engine}-page.tsv"
        write_lines(page_file, prepare_attempts(ours_url, 200, seed=1), "page")
    if "submit" in cases:
        submit_files = []  # [run][slice]: each slice sends papers of its own, never another's
        for run in range(args.runs):
            papers = prepare_attempts(ours_url, args.submit_pool, seed=100 + run)
            per_slice = len(papers) // args.slices
            submit_files.append([])
            for index in range(args.slices):
                path = WORK / f"{engine}-submit-{run}-{index}.tsv"
                write_lines(path, papers[index * per_slice:(index + 1) * per_slice], "submit")
                submit_files[run].append(path)
    print(f"   prepared papers in {time.perf_counter() - began:.0f} s", flush=True)

    ours = Server(f"{engine}-ours", "wsgi:app", ours_url)
    bare = Server(f"{engine}-bare", "bare_app:app", bare_url,
                  extra_args=("--pythonpath", str(BENCH)))
    results = []
    try:
        ours.wait("/healthz")
        bare.wait("/")
        # Warm both (imports, template compilation, connection pools) before measuring.
        wrk(bare.base + "/", "wrk_get.lua", args.connections, 3)
        wrk(ours.base + "/board/", "wrk_get.lua", args.connections, 3)
        if page_file:
            wrk(ours.base + "/", "wrk_get.lua", args.connections, 3, data=page_file)
        for run in range(args.runs):
            for case in cases:
                ours_path, ours_script, bare_path, bare_script = CASES[case]
                load_before = uptime()

                def measure_bare(_index, path=bare_path, script=bare_script):
                    return wrk(bare.base + path, script, args.connections, seconds)

                def measure_ours(index, case=case, run=run, path=ours_path, script=ours_script):
                    if case == "page":
                        return wrk(ours.base + "/", script, args.connections, seconds,
                                   data=page_file)
                    if case == "submit":
                        return wrk(ours.base + "/", script, args.connections, seconds,
                                   data=submit_files[run][index], reuse=False)
                    return wrk(ours.base + path, script, args.connections, seconds)

                bare_result, ours_result = interleaved(measure_bare, measure_ours, args.slices)
                row = {"engine": engine, "case": case, "run": run + 1, "uptime": load_before,
                       "bare": bare_result, "ours": ours_result,
                       "ratio": ours_result["rps"] / bare_result["rps"]}
                results.append(row)
                print(summary_line(row), flush=True)
    finally:
        ours.stop()
        bare.stop()
    return results


def summary_line(row: dict) -> str:
    b, o = row["bare"], row["ours"]
    return (f"   {row['engine']:10} {row['case']:7} run {row['run']}: bare {b['rps']:7.0f} req/s "
            f"p50 {b['p50_ms']:6.1f} p99 {b['p99_ms']:6.1f} err {b['errors']} | ours "
            f"{o['rps']:7.0f} req/s p50 {o['p50_ms']:6.1f} p99 {o['p99_ms']:6.1f} err "
            f"{o['errors']} 3xx {o['c3xx']} exhausted {o['exhausted']} | ratio {row['ratio']:.2f}"
            f"{' (papers sent twice: not a valid submission figure)' if o['exhausted'] else ''}"
            f"   [{row['uptime'].split('load average: ')[-1]}]")


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())
    memory = next(line.split(":", 1)[1].strip() for line in
                  Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True,
                                 text=True).stdout.split("\n")[0]
    from quiz import gunicorn_conf
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "wrk": wrk_version.strip(),
            "workers": gunicorn_conf.workers, "threads": gunicorn_conf.threads,
            "date": date.today().isoformat(),
            "started": datetime.now().isoformat(timespec="seconds")}


def markdown(rows: list[dict]) -> str:
    lines = ["| engine | case | run | load (1/5/15 min) before | bare req/s | bare p50 / p99 ms | "
             "bare errors | ours req/s | ours p50 / p99 ms | ours errors | ours/bare |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        b, o = row["bare"], row["ours"]
        lines.append(
            f"| {row['engine']} | {row['case']} | {row['run']} | "
            f"{row['uptime'].split('load average: ')[-1]} | {b['rps']:.0f} | "
            f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f} | {b['errors']} | {o['rps']:.0f} | "
            f"{o['p50_ms']:.1f} / {o['p99_ms']:.1f} | {o['errors']} | {row['ratio']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--cases", default="page,submit,board,api")
    parser.add_argument("--pg-cases", default="page,submit,board,api",
                        help="cases also run on PostgreSQL")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds of each app per case and run, in --slices slices")
    parser.add_argument("--slices", type=int, default=5,
                        help="alternating slices per case and run (at least 1 s each)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--submit-pool", type=int, default=3000,
                        help="papers prepared per submit run (each request takes its own; "
                             "split evenly between the slices)")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the 1,000,000-attempt database")
    args = parser.parse_args()
    args.cases = args.cases.split(",")
    args.pg_cases = args.pg_cases.split(",")
    if not 1 <= args.slices <= args.duration:
        parser.error("--slices must be between 1 and --duration (slices last whole seconds)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(json.dumps(info, ensure_ascii=False), flush=True)
    pristine = pristine_sqlite(args.rebuild)
    rows = []
    out = WORK / f"results-{datetime.now():%Y%m%d-%H%M%S}.json"
    for engine in args.engines.split(","):
        rows += run_engine(engine, pristine, args)
        out.write_text(json.dumps({"machine": info, "args": vars(args), "rows": rows},
                                  indent=1, ensure_ascii=False))  # kept after every engine
    shutil.copyfile(out, WORK / "results.json")
    print(markdown(rows))
    print(f"all numbers: {out}")


if __name__ == "__main__":
    main()
