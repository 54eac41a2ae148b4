"""Faults: a gunicorn worker SIGKILLed while residents submit loses nothing and counts nothing
twice; a phone's retry of an interrupted or an acknowledged submission counts once.

The app runs under gunicorn (our gunicorn_conf, 2 workers) in a subprocess, on a database
prepared like production (`flask db upgrade`, then a small bank and the demo units). The
residents are bench/scenario.py's simulated phones (stdlib HTTP clients on threads). With
TEST_DATABASE_URL set the same runs on PostgreSQL, in a schema of its own.
"""
from tests.conftest import scenario

RESIDENTS = 30
PHONES_AT_ONCE = 10
UNITS = ["S01C01", "S01C02", "S02C01", "S03C02", "E01", "E04", "G02"]


def test_killed_worker_loses_no_acknowledged_submission_and_counts_none_twice(
        gunicorn_server, served_database):
    assert len(gunicorn_server.worker_pids()) == 2
    victim_number = RESIDENTS // 3

    class Resident(scenario.Resident):
        def before_submit(self):
            # A third of the way through, with the others in flight: this phone's submission
            # is cut off half-sent by SIGKILLing the worker reading it; the phone then retries.
            if self.number == victim_number:
                gunicorn_server.interrupt_submission(self)

    residents = [Resident(number, UNITS[number % len(UNITS)],
                          "203.0.113.7" if number % 2 else f"10.0.0.{number}")
                 for number in range(1, RESIDENTS + 1)]
    stats, _seconds = scenario.run_residents(gunicorn_server.port, residents, [0.0] * RESIDENTS,
                                             PHONES_AT_ONCE, board=False)

    assert len(gunicorn_server.killed) == 1
    # Every phone got its result in the end, retrying what the kill interrupted.
    assert [(r.number, r.error) for r in residents if not r.acknowledged] == [], stats
    assert residents[victim_number - 1].acknowledged  # its retry went through
    acknowledged = {r.token for r in residents}
    check = scenario.check_database(served_database, acknowledged)
    assert check["problems"] == []
    assert check["stored_submitted"] == check["acknowledged"] == RESIDENTS
    assert check["totals"]["attempts"] == RESIDENTS

    # A phone that sends an acknowledged paper again (late retry, double tap) sees the result
    # and changes nothing.
    again = scenario.resubmit_acknowledged(gunicorn_server.port, residents, 10)
    assert again == 10
    after = scenario.check_database(served_database, acknowledged)
    assert after["problems"] == []
    assert after["totals"] == check["totals"]
    # The master replaced the killed worker.
    assert gunicorn_server.killed[0] not in gunicorn_server.worker_pids()
