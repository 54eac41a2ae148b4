"""Faults: a gunicorn worker SIGKILLed while residents submit loses nothing and counts nothing
twice; a phone's retry of an interrupted or an acknowledged submission counts once.

The app runs under gunicorn (our gunicorn_conf, 2 workers) in a subprocess, on a database
prepared like production (`flask db upgrade`, then a small bank and the demo units). The
residents are bench/scenario.py's simulated phones (stdlib HTTP clients on threads). With
TEST_DATABASE_URL set the same runs on PostgreSQL, in a schema of its own.
"""
import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_scenario", ROOT / "bench" / "scenario.py")
scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenario)

RESIDENTS = 30
PHONES_AT_ONCE = 10
UNITS = ["S01C01", "S01C02", "S02C01", "S03C02", "E01", "E04", "G02"]


@pytest.fixture
def database(tmp_path):
    """A migrated database of its own: a temp SQLite file, or a fresh PostgreSQL schema."""
    base = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if not base:
        url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    else:
        if base.startswith("postgresql://"):
            base = "postgresql+psycopg://" + base.removeprefix("postgresql://")
        schema = f"faults_{uuid.uuid4().hex[:10]}"
        scenario.pg_reset_schema(base, schema)
        url = scenario.pg_schema_url(base, schema)
    try:
        subprocess.run([sys.executable, str(ROOT / "bench" / "scenario.py"), "prepare",
                        "--url", url, "--small-bank"], cwd=ROOT, check=True,
                       capture_output=True, timeout=180)
        yield url
    finally:
        if schema:
            scenario.pg_reset_schema(base, schema, drop_only=True)


@pytest.fixture
def server(database, tmp_path):
    gunicorn = scenario.Gunicorn(database, tmp_path / "gunicorn.log", workers=2)  # conf default
    try:
        gunicorn.wait_ready()
        yield gunicorn
    finally:
        gunicorn.stop()


def test_killed_worker_loses_no_acknowledged_submission_and_counts_none_twice(
        server, database):
    assert len(server.worker_pids()) == 2
    victim_number = RESIDENTS // 3

    class Resident(scenario.Resident):
        def before_submit(self):
            # A third of the way through, with the others in flight: this phone's submission
            # is cut off half-sent by SIGKILLing the worker reading it; the phone then retries.
            if self.number == victim_number:
                server.interrupt_submission(self)

    residents = [Resident(number, UNITS[number % len(UNITS)],
                          "203.0.113.7" if number % 2 else f"10.0.0.{number}")
                 for number in range(1, RESIDENTS + 1)]
    stats, _seconds = scenario.run_residents(server.port, residents, [0.0] * RESIDENTS,
                                             PHONES_AT_ONCE, board=False)

    assert len(server.killed) == 1
    # Every phone got its result in the end, retrying what the kill interrupted.
    assert [(r.number, r.error) for r in residents if not r.acknowledged] == [], stats
    assert residents[victim_number - 1].acknowledged  # its retry went through
    acknowledged = {r.token for r in residents}
    check = scenario.check_database(database, acknowledged)
    assert check["problems"] == []
    assert check["stored_submitted"] == check["acknowledged"] == RESIDENTS
    assert check["totals"]["attempts"] == RESIDENTS

    # A phone that sends an acknowledged paper again (late retry, double tap) sees the result
    # and changes nothing.
    again = scenario.resubmit_acknowledged(server.port, residents, 10)
    assert again == 10
    after = scenario.check_database(database, acknowledged)
    assert after["problems"] == []
    assert after["totals"] == check["totals"]
    # The master replaced the killed worker.
    assert server.killed[0] not in server.worker_pids()
