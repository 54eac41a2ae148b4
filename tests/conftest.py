"""Fixtures: a fresh app and database per test, a logged-in client, a live server, and the
app under gunicorn on a database prepared like production."""
import importlib.util
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from quiz import create_app
from quiz.extensions import db
from quiz.models import Question
from quiz.rate_limit_storage import shared_file_uri
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
# bench/scenario.py: its simulated phones (stdlib HTTP clients) and gunicorn runner.
_spec = importlib.util.spec_from_file_location("bench_scenario", ROOT / "bench" / "scenario.py")
scenario = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenario)

CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_prepared_urls: set[str] = set()


def database_url(tmp_path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def empty_database() -> None:
    """Delete every row, children first; run inside an app context."""
    db.session.remove()
    # questions and question_versions point at each other: cut that link first.
    db.session.execute(db.update(Question).values(current_version_id=None))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(tmp_path):
    """A fresh app and an empty database for each test."""
    url = database_url(tmp_path)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False, "EXPORT_FOLDER": str(tmp_path / "exports"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "RATELIMIT_STORAGE_URI": shared_file_uri(str(tmp_path / "rate-limits.sqlite3")),
        "LEADERBOARD_CACHE_SECONDS": 0,  # tests read the board right after each submission
    })
    with app.app_context():
        if url not in _prepared_urls and not url.startswith("sqlite"):
            db.drop_all()  # a schema left by an older run of the suite
            _prepared_urls.add(url)
        db.create_all()
        empty_database()
    yield app
    with app.app_context():
        empty_database()
        db.engine.dispose()  # else PostgreSQL runs out of connections


@pytest.fixture
def limited_app_with(app):
    """Builds apps on the same database with the rate limits on, as in production, and other
    settings given; their engines are closed after, else PostgreSQL's connections are collected
    unclosed during some later test, and fail it (filterwarnings = error)."""
    built = []

    def build(**settings):
        built.append(create_app({**app.config, "RATELIMIT_ENABLED": True, **settings}))
        return built[-1]

    yield build
    for limited in built:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def limited_app(limited_app_with):
    return limited_app_with()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context, for tests that work with models directly."""
    with app.app_context():
        yield


def csrf_token(client, url: str) -> str:
    """Open a page and return the CSRF token of its form."""
    response = client.get(url)
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def refusal_message(wait: int) -> str:
    """What a rate-limited reply says for a window with ``wait`` seconds left (at most a minute).

    The window opens with the first request: on a slow machine a second or more has gone by
    the time the limit is reached, and the reply counts down in seconds.
    """
    return "操作太频繁了，请1分钟后再试。" if wait == 60 else f"操作太频繁了，请{wait}秒后再试。"


def login(client, username: str, password: str = "secret-pass-1"):
    """Log an organiser in through the real form."""
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"csrf_token": token, "username": username,
                                             "password": password})


@pytest.fixture
def admin_client(app, demo):
    """A client logged in as a district administrator."""
    with app.app_context():
        factories.make_organiser("admin")
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    return client


@pytest.fixture
def street_client(app, demo):
    """A client logged in as the organiser of 东街街道 (S01)."""
    from quiz.models import Unit

    with app.app_context():
        street = db.session.scalar(db.select(Unit).filter_by(code="S01"))
        factories.make_organiser("dongjie", unit=street, is_admin=False)
    client = app.test_client()
    assert login(client, "dongjie").status_code == 302
    return client


@pytest.fixture
def demo(app):
    """The demo district with a contest campaign and a small, known question bank."""
    with app.app_context():
        from quiz.demo import seed_units
        from quiz.slogan_rules import seed_official

        seed_units()
        seed_official()
        db.session.commit()
        factories.make_bank()
        campaign = factories.make_campaign("contest")
        return {"campaign_id": campaign.id}


@pytest.fixture
def live_server(app):
    """The app served on a free port in a thread, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def served_database(tmp_path):
    """A migrated database of its own for a gunicorn server, with a small bank and the demo
    units: a temp SQLite file, or a fresh PostgreSQL schema when TEST_DATABASE_URL is set."""
    base = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if not base:
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    else:
        if base.startswith("postgresql://"):
            base = "postgresql+psycopg://" + base.removeprefix("postgresql://")
        schema = f"served_{uuid.uuid4().hex[:10]}"
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
def gunicorn_server(served_database, tmp_path):
    """The app under `gunicorn -c python:quiz.gunicorn_conf` with two workers, behind one proxy
    hop (X-Forwarded-For gives each phone its address)."""
    gunicorn = scenario.Gunicorn(served_database, tmp_path / "gunicorn.log", workers=2)
    try:
        gunicorn.wait_ready()
        yield gunicorn
    finally:
        gunicorn.stop()
