"""Leaderboard latency at 1,000 and 1,000,000 attempts (SQLite, the embedded default).

The leaderboard reads per-unit running totals kept in the submission's transaction, so its
cost should not grow with the number of attempts. For contrast the script also times the
plain GROUP BY over the attempts that those totals replace.

    .venv/bin/python bench/leaderboard.py            # writes bench/results-leaderboard.md
"""
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from quiz import create_app  # noqa: E402
from quiz.demo import seed_demo  # noqa: E402
from quiz.extensions import db  # noqa: E402
from quiz.leaderboard import unit_rows  # noqa: E402
from quiz.models import Campaign, Unit, UnitKind  # noqa: E402

WORK = Path(__file__).resolve().parent / "work"
SIZES = (1_000, 1_000_000)
EXTRA_COMMUNITIES = 300  # a district of ~400,000 people has a few hundred units
RUNS = 30


def build(size: int) -> tuple:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"leaderboard-{size}.sqlite3"
    path.unlink(missing_ok=True)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        street = db.session.scalar(db.select(Unit).filter_by(code="S01"))
        for number in range(EXTRA_COMMUNITIES):
            db.session.add(Unit(code=f"B{number:03d}", name=f"压测社区{number}",
                                kind=UnitKind.COMMUNITY, parent=street, headcount=1000))
        db.session.commit()
        campaign = db.session.scalar(db.select(Campaign).filter_by(is_active=True))
        campaign_id = campaign.id
        unit_ids = list(db.session.scalars(db.select(Unit.id)))
        people = max(1, size // 3)
        rng = random.Random(size)
        connection = db.session.connection()
        connection.execute(text(
            "INSERT INTO participants (id, token, name, unit_id, created_at) VALUES "
            "(:id, :token, '压测', :unit, :now)"),
            [{"id": n, "token": f"t{n}", "unit": rng.choice(unit_ids), "now": datetime.now(timezone.utc)}
             for n in range(1, people + 1)])
        person_unit = dict(connection.execute(text("SELECT id, unit_id FROM participants")).all())
        start = datetime(2024, 6, 1, tzinfo=timezone.utc)
        batch = []
        for n in range(1, size + 1):
            person = rng.randint(1, people)
            moment = start + timedelta(seconds=rng.randint(0, 29 * 86400))
            batch.append({"id": n, "token": f"a{n}", "campaign": campaign_id, "person": person,
                          "unit": person_unit[person], "day": moment.date(), "seq": n,
                          "started": moment, "score": rng.choice((0, 20, 40, 60, 80, 100))})
            if len(batch) == 50_000 or n == size:
                connection.execute(text(
                    "INSERT INTO attempts (id, token, campaign_id, participant_id, unit_id, day, "
                    "day_seq, status, started_at, deadline_at, submitted_at, was_timed_out, score, "
                    "max_score, correct_count, duration_ms, is_passed) VALUES (:id, :token, :campaign, "
                    ":person, :unit, :day, :seq, 'SUBMITTED', :started, :started, :started, 0, "
                    ":score, 100, 0, 60000, :score >= 60)"), batch)
                batch = []
        # The running totals, as the submissions would have left them: one recount at setup.
        connection.execute(text(
            "INSERT INTO participant_standings (campaign_id, participant_id, unit_id, attempts_count, "
            "best_score, best_duration_ms, points_total) SELECT campaign_id, participant_id, "
            "MIN(unit_id), COUNT(*), MAX(score), 60000, SUM(score) FROM attempts GROUP BY "
            "campaign_id, participant_id"))
        connection.execute(text(
            "INSERT INTO unit_tallies (campaign_id, unit_id, participants, attempts, best_score_sum, "
            "passed_participants, full_mark_participants, points_total) SELECT s.campaign_id, "
            "s.unit_id, COUNT(*), SUM(s.attempts_count), SUM(s.best_score), "
            "SUM(s.best_score >= 60), SUM(s.best_score = 100), SUM(s.points_total) "
            "FROM participant_standings s GROUP BY s.campaign_id, s.unit_id"))
        db.session.commit()
    return app, campaign_id


def timed(function, runs: int = RUNS) -> dict:
    function()  # warm the caches once
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"median": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1]}


def measure(size: int) -> dict:
    app, campaign_id = build(size)
    client = app.test_client()
    results = {}
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        attempts = db.session.scalar(text("SELECT COUNT(*) FROM attempts"))
        assert attempts == size, attempts
        results["unit_rows() (rolled up, all units)"] = timed(lambda: unit_rows(campaign))
        group_by = text("SELECT unit_id, COUNT(*), COUNT(DISTINCT participant_id), SUM(score) "
                        "FROM attempts WHERE campaign_id = :c GROUP BY unit_id")
        results["plain GROUP BY over attempts (not used)"] = timed(
            lambda: db.session.execute(group_by, {"c": campaign_id}).all(), runs=5)
    for url in ("/board/?kind=community", "/api/leaderboard?kind=community"):
        def fetch(url=url):
            response = client.get(url)
            assert response.status_code == 200
        results[f"GET {url}"] = timed(fetch)
    return results


def machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {cores} cores, Python {platform.python_version()}, SQLite (WAL), {platform.system()}"


def main() -> None:
    lines = ["# Leaderboard latency", "",
             f"- Date: {date.today().isoformat()}", f"- Machine: {machine()}",
             f"- Units: {18 + EXTRA_COMMUNITIES} (demo district + {EXTRA_COMMUNITIES} communities)",
             f"- Command: `.venv/bin/python bench/leaderboard.py` ({RUNS} timed runs each, after "
             "one warm-up; the GROUP BY row 5 runs)", "",
             "| attempts | what | median ms | p95 ms |", "| ---: | --- | ---: | ---: |"]
    for size in SIZES:
        began = time.perf_counter()
        for name, figures in measure(size).items():
            lines.append(f"| {size:,} | {name} | {figures['median']:.2f} | {figures['p95']:.2f} |")
        print(f"{size:,} attempts done in {time.perf_counter() - began:.0f} s", flush=True)
    lines += ["", "The page and the API read one row per unit from `unit_tallies`; their time "
              "is the same at 1,000 and 1,000,000 attempts. The GROUP BY row is what a "
              "leaderboard computed from the attempts would cost on every view."]
    out = Path(__file__).resolve().parent / "results-leaderboard.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
