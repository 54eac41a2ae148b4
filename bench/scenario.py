"""Consultation-day scenario: thousands of residents take the whole path against gunicorn.

Each simulated resident scans a unit's poster (/u/<code>), opens the unit page, starts through
the real form, loads the paper, saves some answers, submits, reads the result and the
leaderboard. They arrive in bursts after broadcasts (hundreds in the same minute), and a large
share sits behind a few enterprise NAT addresses (X-Forwarded-For, with PROXY_HOPS=1 as behind
nginx). A phone retries whatever was interrupted (connection reset, 502/503, 429 after the
Retry-After), a submission included, until the server acknowledges it (a redirect to the
result) — the app must count such a paper once.

Afterwards the database must hold exactly the acknowledged submitted attempts (none lost, none
extra), every paper's score must be the sum of its questions, and unit_tallies,
participant_standings and daily_tallies must equal a recount from the attempts. Finally some
acknowledged papers are submitted again and must change nothing.

    .venv/bin/python bench/scenario.py                                  # SQLite, 3,000 residents
    .venv/bin/python bench/scenario.py --kill 3                         # SIGKILL 3 workers mid-run
    .venv/bin/python bench/scenario.py --engine postgresql --kill 3    # schema scenario, db bench

tests/test_faults.py imports this module (stdlib only on the client side) for a small run.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "scenario"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
SECRET_KEY = "bench-scenario-secret"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
OPTION = re.compile(r'<input type="(radio|checkbox)" name="q(\d+)" value="(\d+)"')
RETRYABLE_STATUS = {429, 502, 503, 504}


# ---------------------------------------------------------------- the database

def prepare_database(url: str, small_bank: bool = False) -> None:
    """Migrate (`flask db upgrade`), then the bank and the demo district with an active contest.

    small_bank: tests/factories.py's 16 questions and a contest campaign (as tests/conftest.py's
    demo fixture); otherwise `flask bank load` and `flask demo seed`.
    """
    sys.path.insert(0, str(ROOT))
    import flask_migrate

    from quiz import create_app
    from quiz.extensions import db

    app = create_app({"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade()
        if small_bank:
            from quiz.demo import seed_units
            from tests import factories

            seed_units()
            db.session.commit()
            factories.make_bank()
            factories.make_campaign("contest")
        else:
            from quiz.bank_loader import load_bank
            from quiz.demo import seed_demo

            load_bank(app.config["QUESTION_BANK_DIR"])
            seed_demo()
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def pg_schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def pg_reset_schema(base: str, schema: str, drop_only: bool = False) -> None:
    import psycopg

    conninfo = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with closing(psycopg.connect(conninfo, autocommit=True)) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        if not drop_only:
            conn.execute(f"CREATE SCHEMA {schema}")


def unit_codes(url: str) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from quiz import create_app
    from quiz.extensions import db
    from quiz.models import Unit, UnitKind

    app = create_app({"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        codes = list(db.session.scalars(db.select(Unit.code).where(
            Unit.is_active, Unit.kind != UnitKind.DISTRICT).order_by(Unit.code)))
        db.session.remove()
        db.engine.dispose()
    return codes


def check_database(url: str, acknowledged: set[str]) -> dict:
    """Compare the stored submitted attempts with the acknowledged ones, and every running
    total with a recount from the attempts. Returns figures and a list of problems."""
    sys.path.insert(0, str(ROOT))
    from quiz import create_app
    from quiz.extensions import db
    from quiz.models import (Attempt, AttemptQuestion, AttemptStatus, Campaign, DailyTally,
                             ParticipantStanding, UnitTally)
    from quiz.timeutil import local_day

    app = create_app({"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
    problems: list[str] = []
    with app.app_context():
        submitted = db.session.execute(db.select(
            Attempt.token, Attempt.campaign_id, Attempt.participant_id, Attempt.unit_id,
            Attempt.score, Attempt.duration_ms, Attempt.submitted_at, Attempt.id
        ).where(Attempt.status == AttemptStatus.SUBMITTED)).all()
        in_progress = db.session.scalar(db.select(db.func.count(Attempt.id)).where(
            Attempt.status == AttemptStatus.IN_PROGRESS))
        stored = [row.token for row in submitted]
        duplicates = [token for token, n in Counter(stored).items() if n > 1]
        stored_set = set(stored)
        lost = acknowledged - stored_set
        extra = stored_set - acknowledged
        if duplicates:
            problems.append(f"{len(duplicates)} tokens stored twice")
        if lost:
            problems.append(f"{len(lost)} acknowledged submissions missing: {sorted(lost)[:5]}")
        if extra:
            problems.append(f"{len(extra)} submitted attempts never acknowledged: "
                            f"{sorted(extra)[:5]}")

        # Each paper's score is the sum of its questions' points (nothing half-written).
        sums = dict(db.session.execute(
            db.select(AttemptQuestion.attempt_id, db.func.sum(AttemptQuestion.points_awarded))
            .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
            .where(Attempt.status == AttemptStatus.SUBMITTED)
            .group_by(AttemptQuestion.attempt_id)).all())
        bad_scores = [row.token for row in submitted if (sums.get(row.id) or 0) != row.score]
        if bad_scores:
            problems.append(f"{len(bad_scores)} papers whose score is not the sum of their "
                            f"questions: {bad_scores[:5]}")

        campaigns = {c.id: c for c in db.session.scalars(db.select(Campaign))}
        # Recount standings: per (campaign, person).
        people: dict[tuple, dict] = {}
        for row in sorted(submitted, key=lambda r: (r.submitted_at, r.id)):
            key = (row.campaign_id, row.participant_id)
            person = people.setdefault(key, {"unit_id": row.unit_id, "attempts_count": 0,
                                             "points_total": 0, "best_score": None,
                                             "best_duration_ms": None,
                                             "first_day": local_day(row.submitted_at)})
            person["attempts_count"] += 1
            person["points_total"] += row.score
            if (person["best_score"] is None or row.score > person["best_score"]
                    or (row.score == person["best_score"]
                        and row.duration_ms < person["best_duration_ms"])):
                person["best_score"], person["best_duration_ms"] = row.score, row.duration_ms
        standings = {(s.campaign_id, s.participant_id): {
            "unit_id": s.unit_id, "attempts_count": s.attempts_count,
            "points_total": s.points_total, "best_score": s.best_score,
            "best_duration_ms": s.best_duration_ms}
            for s in db.session.scalars(db.select(ParticipantStanding))
            if s.attempts_count}
        recount_standings = {key: {k: v for k, v in person.items() if k != "first_day"}
                             for key, person in people.items()}
        if standings != recount_standings:
            wrong = [key for key in set(standings) | set(recount_standings)
                     if standings.get(key) != recount_standings.get(key)]
            examples = [(k, standings.get(k), recount_standings.get(k)) for k in wrong[:3]]
            problems.append(f"participant_standings differ from the recount for {len(wrong)} "
                            f"people, e.g. {examples}")

        # Recount unit tallies: per (campaign, unit).
        units: dict[tuple, Counter] = defaultdict(Counter)
        for (campaign_id, _person), person in people.items():
            campaign = campaigns[campaign_id]
            tally = units[(campaign_id, person["unit_id"])]
            tally["participants"] += 1
            tally["attempts"] += person["attempts_count"]
            tally["best_score_sum"] += person["best_score"]
            tally["passed_participants"] += int(person["best_score"] >= campaign.pass_mark)
            tally["full_mark_participants"] += int(person["best_score"] == campaign.max_score)
            tally["points_total"] += person["points_total"]
        fields = ("participants", "attempts", "best_score_sum", "passed_participants",
                  "full_mark_participants", "points_total")
        tallies = {(t.campaign_id, t.unit_id): {name: getattr(t, name) for name in fields}
                   for t in db.session.scalars(db.select(UnitTally))
                   if any(getattr(t, name) for name in fields)}
        recount_units = {key: {name: tally[name] for name in fields}
                         for key, tally in units.items()}
        if tallies != recount_units:
            wrong = [key for key in set(tallies) | set(recount_units)
                     if tallies.get(key) != recount_units.get(key)]
            problems.append(f"unit_tallies differ from the recount for {len(wrong)} units, e.g. "
                            f"{[(k, tallies.get(k), recount_units.get(k)) for k in wrong[:3]]}")

        # Recount daily tallies: per (campaign, local day of the submission).
        days: dict[tuple, Counter] = defaultdict(Counter)
        for row in submitted:
            days[(row.campaign_id, local_day(row.submitted_at))]["attempts"] += 1
        for (campaign_id, _person), person in people.items():
            days[(campaign_id, person["first_day"])]["new_participants"] += 1
        daily = {(d.campaign_id, d.day): {"attempts": d.attempts,
                                          "new_participants": d.new_participants}
                 for d in db.session.scalars(db.select(DailyTally)) if d.attempts}
        recount_days = {key: {"attempts": c["attempts"], "new_participants": c["new_participants"]}
                        for key, c in days.items()}
        if daily != recount_days:
            problems.append(f"daily_tallies {daily} differ from the recount {recount_days}")
        totals = {"points": sum(t["points_total"] for t in tallies.values()),
                  "attempts": sum(t["attempts"] for t in tallies.values())}
        db.session.remove()
        db.engine.dispose()
    return {"acknowledged": len(acknowledged), "stored_submitted": len(stored),
            "lost": len(lost), "extra": len(extra), "duplicates": len(duplicates),
            "in_progress_left": in_progress, "units_with_totals": len(tallies),
            "people_with_standings": len(standings), "totals": totals, "problems": problems}


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's worker processes: those whose parent it is.

    Every process's stat is read, not the master's /proc/…/children list: the kernel calls that
    list unreliable unless the children are stopped, and in CI it once missed a live worker."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the name may hold spaces
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def fresh_rate_limit_counters(path: Path) -> str:
    """The URI of an empty rate-limit file for one server, not the instance folder's."""
    sys.path.insert(0, str(ROOT))
    from quiz.rate_limit_storage import shared_file_uri

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return shared_file_uri(str(path))


class Gunicorn:
    """Our app under `gunicorn -c python:quiz.gunicorn_conf wsgi:app` on a free port."""

    def __init__(self, url: str, log: Path, workers: int | None = None,
                 threads: int | None = None, secret_key: str = SECRET_KEY):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secret_key,
               "BIND": f"127.0.0.1:{self.port}", "PROXY_HOPS": "1",
               "RATELIMIT_STORAGE_URI": fresh_rate_limit_counters(log.with_suffix(".limits"))}
        if workers:
            env["WEB_WORKERS"] = str(workers)
        if threads:
            env["WEB_THREADS"] = str(threads)
        self.log_file = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "python:quiz.gunicorn_conf", "wsgi:app"], cwd=ROOT, env=env,
            stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self.killed: list[int] = []

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)) as c:
                    c.request("GET", "/healthz")
                    if c.getresponse().status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s")

    def worker_pids(self) -> list[int]:
        return worker_pids(self.process.pid)

    def kill_worker(self, rng: random.Random) -> int:
        """SIGKILL one worker (the master starts a new one)."""
        pid = rng.choice(self.worker_pids())
        os.kill(pid, signal.SIGKILL)
        self.killed.append(pid)
        return pid

    def worker_serving(self, client_port: int, timeout: float = 10) -> int:
        """The worker holding the server side of the connection from client_port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            inodes = set()
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].split(":")[1], 16)
                remote_port = int(fields[2].split(":")[1], 16)
                if local_port == self.port and remote_port == client_port:
                    inodes.add(f"socket:[{fields[9]}]")
            for pid in self.worker_pids():
                try:
                    for fd in Path(f"/proc/{pid}/fd").iterdir():
                        try:
                            if os.readlink(fd) in inodes:
                                return pid
                        except OSError:
                            continue
                except OSError:
                    continue
            time.sleep(0.05)
        raise RuntimeError(f"no worker holds the connection from port {client_port}")

    def interrupt_submission(self, resident: "Resident") -> int:
        """Send half of the resident's submission, SIGKILL the worker reading it, and return
        that worker's pid: the phone sees its connection die mid-submission."""
        body = urllib.parse.urlencode(resident.submit_form).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in resident.cookies.items())
        head = (f"POST /a/{resident.token}/submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {cookie}\r\nX-Forwarded-For: {resident.address}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with closing(socket.create_connection(("127.0.0.1", self.port), timeout=30)) as sock:
            sock.sendall(head + body[: len(body) // 2])
            pid = self.worker_serving(sock.getsockname()[1])
            os.kill(pid, signal.SIGKILL)
            self.killed.append(pid)
            try:
                answer = sock.recv(65536)
            except OSError:
                answer = b""
        assert not answer.startswith(b"HTTP/1.1 3"), "the half-sent paper was accepted"
        return pid

    def stop(self, grace: float = 5) -> None:
        """Quick shutdown (SIGINT); after `grace` seconds SIGKILL the server's own process
        group (the master and its workers, started in a session of their own)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


# ---------------------------------------------------------------- the phones

class Interrupted(Exception):
    """The connection broke or the server said to come back later."""


class Phone:
    """One resident's browser: its own connection, cookie and address; retries on failure."""

    def __init__(self, port: int, address: str, stats: Counter, lock: threading.Lock,
                 tries: int = 30):
        self.port, self.address, self.stats, self.lock = port, address, stats, lock
        self.tries = tries
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def count(self, key: str) -> None:
        with self.lock:
            self.stats[key] += 1

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _once(self, method: str, path: str, form: list | None, headers: dict):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = {"X-Forwarded-For": self.address, "User-Agent": "scenario-phone", **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise Interrupted(type(error).__name__) from error
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, response.getheader("Location", ""), data.decode("utf-8",
                                                                                 "replace")

    def request(self, method: str, path: str, form: list | None = None,
                headers: dict | None = None, step: str = ""):
        """Send until the server answers without a retryable failure; count interruptions."""
        for attempt in range(self.tries):
            try:
                status, location, text = self._once(method, path, form, headers or {})
            except Interrupted as error:
                self.count(f"interrupted {step}: {error}")
                time.sleep(min(2.0, 0.1 * 2 ** attempt) * random.random() + 0.05)
                continue
            if status in RETRYABLE_STATUS:
                self.count(f"{status} on {step}")
                wait = 1.0 if status == 429 else 0.2
                time.sleep(min(5.0, wait * 2 ** min(attempt, 3)) * (0.5 + random.random()))
                continue
            return status, location, text
        raise Interrupted(f"gave up on {step} after {self.tries} tries")


class Resident:
    """The whole path of one person; `acknowledged` is set when the result was confirmed."""

    def __init__(self, number: int, unit: str, address: str):
        self.number, self.unit, self.address = number, unit, address
        self.token: str | None = None
        self.submit_form: list | None = None
        self.acknowledged = False
        self.submit_tries = 0
        self.error: str | None = None
        self.cookies: dict[str, str] = {}

    def run(self, port: int, stats: Counter, lock: threading.Lock, board: bool = True) -> None:
        phone = Phone(port, self.address, stats, lock)
        try:
            self._path(phone, board)
        except (Interrupted, AssertionError) as error:
            self.error = str(error)
            with lock:
                stats[f"failed: {str(error)[:60]}"] += 1
        finally:
            self.cookies = dict(phone.cookies)
            phone.close()

    def _path(self, phone: Phone, board: bool) -> None:
        status, location, _ = phone.request("GET", f"/u/{self.unit}", step="scan")
        assert status == 302 and f"/join/{self.unit}" in location, f"scan {status} {location}"
        status, _, page = phone.request("GET", f"/join/{self.unit}", step="unit page")
        assert status == 200, f"unit page {status}"
        csrf = CSRF.search(page).group(1)
        form = [("csrf_token", csrf), ("name", f"居民{self.number}"), ("phone", ""),
                ("unit", self.unit)]
        status, location, _ = phone.request("POST", "/start", form, step="start")
        assert status == 302 and "/a/" in location, f"start {status} {location}"
        self.token = urllib.parse.urlparse(location).path.rstrip("/").split("/")[-1]
        status, _, page = phone.request("GET", f"/a/{self.token}", step="paper")
        assert status == 200, f"paper {status}"
        csrf = CSRF.search(page).group(1)
        options: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for kind, position, value in OPTION.findall(page):
            options[position].append((kind, value))
        rng = random.Random(self.number)
        answers = []
        for position, choices in sorted(options.items(), key=lambda item: int(item[0])):
            values = [value for _kind, value in choices]
            if choices[0][0] == "checkbox":
                picked = sorted(rng.sample(values, rng.randint(1, len(values))))
            else:
                picked = [rng.choice(values)]
            answers += [(f"q{position}", value) for value in picked]
        half = [pair for pair in answers if int(pair[0][1:]) <= len(options) // 2 + 1]
        status, _, _ = phone.request("POST", f"/a/{self.token}/save",
                                     [("csrf_token", csrf), *half],
                                     headers={"X-Requested-With": "fetch"}, step="save")
        assert status in (200, 409), f"save {status}"
        self.submit_form = [("csrf_token", csrf), *answers]
        self.submit(phone)
        status, _, _ = phone.request("GET", f"/a/{self.token}/result", step="result")
        assert status == 200, f"result {status}"
        if board:
            status, _, _ = phone.request("GET", f"/board/?unit={self.unit}", step="board")
            assert status == 200, f"board {status}"

    def submit(self, phone: Phone) -> None:
        """Send the paper; a broken connection is retried by Phone.request (it counts once)."""
        self.cookies = dict(phone.cookies)
        self.before_submit()
        self.submit_tries += 1
        status, location, _ = phone.request("POST", f"/a/{self.token}/submit", self.submit_form,
                                            step="submit")
        assert status == 302 and location.endswith(f"/a/{self.token}/result"), \
            f"submit {status} {location}"
        self.acknowledged = True

    def before_submit(self) -> None:
        """A hook for tests: e.g. interrupt a first try of this submission."""


def addresses_for(count: int, rng: random.Random, shared_share: float = 0.4,
                  shared_addresses: int = 4) -> list[str]:
    """A share of the residents behind a few enterprise NAT addresses, the rest alone."""
    nat = [f"203.0.113.{n + 1}" for n in range(shared_addresses)]
    return [rng.choice(nat) if rng.random() < shared_share
            else f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(count)]


def arrival_offsets(count: int, rng: random.Random, bursts: int, burst_share: float,
                    spread: float) -> list[float]:
    """Seconds after the start at which each resident scans: most in a few broadcast bursts
    (each within ~20 s), the rest spread over the whole run."""
    offsets = []
    for _ in range(count):
        if rng.random() < burst_share:
            burst = rng.randrange(bursts)
            offsets.append(spread * burst / bursts + rng.uniform(0, 20))
        else:
            offsets.append(rng.uniform(0, spread))
    return sorted(offsets)


def run_residents(port: int, residents: list[Resident], offsets: list[float], concurrency: int,
                  on_progress=None, board: bool = True) -> tuple[Counter, float]:
    """Run every resident's path on a pool of threads, each starting at its offset."""
    stats: Counter = Counter()
    lock = threading.Lock()
    queue = list(zip(offsets, residents, strict=True))
    queue.reverse()
    began = time.monotonic()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                offset, resident = queue.pop()
            delay = began + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            resident.run(port, stats, lock, board=board)
            if on_progress is not None:
                on_progress(resident)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats, time.monotonic() - began


def resubmit_acknowledged(port: int, residents: list[Resident], count: int) -> int:
    """Submit `count` acknowledged papers again from the same phones (a late retry, a double
    tap); return how many were answered with the result page, as they should be."""
    stats: Counter = Counter()
    lock = threading.Lock()
    fine = 0
    for resident in [r for r in residents if r.acknowledged][:count]:
        phone = Phone(port, resident.address, stats, lock)
        phone.cookies = dict(resident.cookies)  # the session that owns the paper
        try:
            status, location, _ = phone.request("POST", f"/a/{resident.token}/submit",
                                                resident.submit_form, step="resubmit")
            fine += status == 302 and location.endswith(f"/a/{resident.token}/result")
        finally:
            phone.close()
    return fine


# ---------------------------------------------------------------- the access log

ACCESS = re.compile(r'"(GET|POST) (\S+) HTTP/1\.1" (\d{3}) \S+ (\d+)ms')


def routes(log: Path) -> dict:
    """Requests per route from gunicorn's access log: count, p50/p99 ms, answers >= 400."""
    seen: dict[str, list] = defaultdict(list)
    failed: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = ACCESS.search(line)
        if not match:
            continue
        method, path, status, ms = match.groups()
        path = re.sub(r"^/a/[^/?]+", "/a/<token>", path.split("?")[0])
        path = re.sub(r"^/(u|join)/[^/?]+", r"/\1/<code>", path)
        route = f"{method} {path}"
        seen[route].append(int(ms))
        if int(status) >= 400:
            failed[f"{route} {status}"] += 1
    table = {}
    for route, times in sorted(seen.items()):
        times.sort()
        table[route] = {"n": len(times), "p50_ms": times[len(times) // 2],
                        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))]}
    return {"routes": table, "answers_400_and_up": dict(failed)}


# ---------------------------------------------------------------- the run

def scenario(url: str, args, log: Path) -> dict:
    rng = random.Random(args.seed)
    codes = unit_codes(url)
    # Communities and enterprises take most of the traffic, like the posters do.
    residents = [Resident(n, rng.choice(codes), address) for n, address in
                 enumerate(addresses_for(args.residents, rng, args.shared_share), start=1)]
    offsets = arrival_offsets(args.residents, rng, args.bursts, args.burst_share, args.spread)
    server = Gunicorn(url, log, workers=args.workers, threads=args.threads)
    kills: list[dict] = []
    try:
        server.wait_ready()
        workers = len(server.worker_pids())
        acknowledged = [0]
        thresholds = [args.residents * (n + 1) / (args.kill + 1) for n in range(args.kill)]
        lock = threading.Lock()

        def progress(resident):
            with lock:
                acknowledged[0] += resident.acknowledged
                if thresholds and acknowledged[0] >= thresholds[0]:
                    thresholds.pop(0)
                    pid = server.kill_worker(rng)
                    kills.append({"pid": pid, "after_acknowledged": acknowledged[0],
                                  "at": time.strftime("%H:%M:%S")})
                    print(f"   SIGKILL worker {pid} after {acknowledged[0]} acknowledged",
                          flush=True)

        stats, seconds = run_residents(server.port, residents, offsets, args.concurrency,
                                       on_progress=progress)
        acked = {r.token for r in residents if r.acknowledged}
        gave_up = [r for r in residents if not r.acknowledged]
        result = check_database(url, acked)
        before = result["totals"]
        again = resubmit_acknowledged(server.port, residents, args.resubmit)
        after = check_database(url, acked)
        if after["totals"] != before or after["problems"]:
            after["problems"].append(f"resubmitting changed the totals: {before} -> "
                                     f"{after['totals']}")
    finally:
        server.stop()
    by_route = routes(log)
    requests = sum(route["n"] for route in by_route["routes"].values())
    return {"engine": args.engine, "residents": args.residents, "workers": workers,
            "threads": args.threads or "default", "concurrency": args.concurrency,
            "seconds": round(seconds, 1), "requests_logged": requests,
            "kills": kills, "acknowledged": len(acked),
            "not_acknowledged": len(gave_up),
            "not_acknowledged_reasons": Counter(r.error for r in gave_up).most_common(5),
            "submit_interruptions": sum(v for k, v in stats.items()
                                        if k.startswith("interrupted submit")),
            "events": dict(stats.most_common()),
            "resubmitted": args.resubmit, "resubmits_answered_with_result": again,
            "check": result, "check_after_resubmit": after, **by_route}


def main() -> None:
    parser = argparse.ArgumentParser(description="consultation-day scenario")
    parser.add_argument("command", nargs="?", default="run", choices=("run", "prepare", "routes"))
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--url", help="prepare: the database to prepare")
    parser.add_argument("--log", help="routes: a gunicorn access log to summarise")
    parser.add_argument("--small-bank", action="store_true")
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=128,
                        help="phones busy at once at most")
    parser.add_argument("--bursts", type=int, default=3)
    parser.add_argument("--burst-share", type=float, default=0.7)
    parser.add_argument("--spread", type=float, default=120.0,
                        help="seconds over which arrivals are spread")
    parser.add_argument("--shared-share", type=float, default=0.4,
                        help="share of residents behind 4 enterprise NAT addresses")
    parser.add_argument("--kill", type=int, default=0, help="workers to SIGKILL during the run")
    parser.add_argument("--workers", type=int, default=None, help="WEB_WORKERS (default: conf)")
    parser.add_argument("--threads", type=int, default=None, help="WEB_THREADS (default: conf)")
    parser.add_argument("--resubmit", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    if args.command == "prepare":  # used by tests/test_faults.py in a subprocess
        prepare_database(args.url, small_bank=args.small_bank)
        return
    if args.command == "routes":
        print(json.dumps(routes(Path(args.log)), indent=1))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    if args.engine == "sqlite":
        path = WORK / "scenario.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        pg_reset_schema(PG_BASE, "scenario")
        url = pg_schema_url(PG_BASE, "scenario")
    began = time.perf_counter()
    prepare_database(url)
    print(f"prepared {url} in {time.perf_counter() - began:.0f} s", flush=True)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load before: {load}", flush=True)
    tag = f"{args.engine}-kill{args.kill}"
    result = scenario(url, args, WORK / f"gunicorn-{tag}.log")
    result["uptime_before"] = load
    out = WORK / f"result-{tag}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    print(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    problems = result["check"]["problems"] + result["check_after_resubmit"]["problems"]
    if result["resubmits_answered_with_result"] != min(args.resubmit, result["acknowledged"]):
        problems.append("a resubmission was not answered with the result page")
    print("OK" if not problems else "PROBLEMS:\n" + "\n".join(problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
