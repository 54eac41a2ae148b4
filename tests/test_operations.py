"""Running it: /healthz, request ids, the database going away, backups and their restore."""
import importlib
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from quiz import create_app, gunicorn_conf
from quiz.extensions import db
from quiz.models import Unit, UnitKind
from tests import factories
from tests.conftest import csrf_token
from tests.test_play import attempt_token, start


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def app_without_database(tmp_path):
    # Port 9 (discard) refuses the connection at once: the database is "briefly unavailable".
    return create_app({"TESTING": True, "SECRET_KEY": "test", "RATELIMIT_ENABLED": False,
                       "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/none",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})


def test_without_a_database_pages_say_try_again_and_health_fails(app_without_database):
    client = app_without_database.test_client()
    assert client.get("/healthz").status_code == 503
    for path in ("/u/S01C01", "/a/a-paper-link"):  # the paper is read outside the session
        page = client.get(path)
        assert page.status_code == 503 and "请稍后再试" in page.get_data(as_text=True)
        assert "Traceback" not in page.get_data(as_text=True)
    api = client.get("/api/leaderboard")
    assert api.status_code == 503 and "请稍后再试" in api.json["error"]


@pytest.mark.parametrize("page", ["board", "paper"])
def test_after_the_database_server_drops_our_connections_the_next_request_reconnects(
        app, demo, page):
    """Connections are not tested before use (quiz.extensions), so one dropped by a restarting
    server is found by a request: that request may say 请稍后再试 but never fails with a 500,
    and the request after it is served on a new connection, with no restart of the app. The
    paper page reads on a pooled connection of its own (quiz.paper_rows), not the session's."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a database server drops connections; a SQLite file does not")
    client = app.test_client()
    path = "/board/"
    if page == "paper":
        path = "/a/" + attempt_token(start(client))
        assert client.get(path).status_code == 200
    with app.app_context():
        backend = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # the connection goes back to the pool, where the next request finds it
        with create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool).connect() \
                as other:
            assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

    first = client.get(path)
    assert first.status_code in (200, 503), first.status_code
    if first.status_code == 503:
        assert "请稍后再试" in first.get_data(as_text=True)
    assert client.get(path).status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != backend


@pytest.mark.parametrize("threads, worker_class", [(None, "sync"), ("1", "sync"),
                                                    ("4", "gthread")])
def test_gunicorn_serves_with_sync_workers_unless_given_threads(monkeypatch, threads,
                                                                worker_class):
    if threads is None:
        monkeypatch.delenv("WEB_THREADS", raising=False)
    else:
        monkeypatch.setenv("WEB_THREADS", threads)
    settings = importlib.reload(gunicorn_conf)
    try:
        assert settings.worker_class == worker_class
        assert settings.threads == int(threads or 1) and settings.workers >= 2
    finally:
        monkeypatch.undo()
        importlib.reload(gunicorn_conf)


def test_the_pool_keeps_a_connection_for_each_gunicorn_thread(app):
    """As many pooled connections as gunicorn threads (WEB_THREADS): with eight threads at
    once, twice, the second time opens no connection. A pool smaller than the threads would
    close the extra connections after each request."""
    assert app.config["DATABASE_POOL_SIZE"] == gunicorn_conf.threads
    threaded = create_app({**app.config, "DATABASE_POOL_SIZE": 8,  # as WEB_THREADS=8 gives
                           "SQLALCHEMY_ENGINE_OPTIONS": {}})  # not the pool options app derived
    opened = []
    with threaded.app_context():
        event.listen(db.engine, "connect", lambda *_args: opened.append(1))
        for _ in range(2):
            before = len(opened)
            connections = [db.engine.connect() for _ in range(8)]
            for connection in connections:
                connection.close()
        assert len(opened) == before, "the second round opened connections again"
        db.engine.dispose()


def test_a_resident_path_needs_one_pooled_connection(app, client, demo):
    """A sync worker has one pooled connection: the paper read on a connection of its own
    (quiz.paper_rows) must give it back before the session takes it, or every request
    would open and close a second one."""
    assert app.config["DATABASE_POOL_SIZE"] == 1
    opened = []
    with app.app_context():
        db.engine.dispose()
        event.listen(db.engine, "connect", lambda *_args: opened.append(1))
    token = attempt_token(start(client))
    csrf = csrf_token(client, f"/a/{token}")
    assert client.post(f"/a/{token}/save", data={"csrf_token": csrf, "q1": "0"},
                       headers={"X-Requested-With": "fetch"}).status_code == 200
    submitted = client.post(f"/a/{token}/submit", data={"csrf_token": csrf, "q1": "0"})
    assert submitted.status_code == 302
    assert client.get(f"/a/{token}/result").status_code == 200
    assert client.get(f"/a/{token}").status_code == 302
    assert len(opened) == 1


def test_every_response_carries_a_request_id(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a9c1e"})
    assert kept.headers["X-Request-ID"] == "nginx-4f2a9c1e"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(forged.headers["X-Request-ID"]) == 32  # replaced, not echoed into the logs


def test_a_request_refused_before_its_view_still_carries_a_request_id(client, limited_app):
    """CSRFProtect refuses in a before_request hook that runs before ours would have."""
    refused = client.post("/start", data={"name": "张三", "unit": "S01C01"},
                          headers={"X-Request-ID": "nginx-5b3d7e2a"})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert refused.headers["X-Request-ID"] == "nginx-5b3d7e2a"
    assert len(client.post("/start").headers["X-Request-ID"]) == 32
    limited = limited_app.test_client()
    form = {"csrf_token": csrf_token(limited, "/auth/login"), "username": "x", "password": "y"}
    answers = [limited.post("/auth/login", data=form) for _ in range(11)]
    assert answers[-1].status_code == 429
    assert len(answers[-1].headers["X-Request-ID"]) == 32


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    with app.app_context():
        db.create_all()
        factories.make_organiser("admin")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_backup_is_consistent_while_writes_continue_and_restores(sqlite_app, tmp_path):
    target = tmp_path / "backup.sqlite3"
    stop, started = threading.Event(), threading.Event()

    def keep_writing():
        with sqlite_app.app_context():
            number = 0
            while not stop.is_set():
                db.session.add(Unit(code=f"W{number}", name=f"写入中{number}", kind=UnitKind.COMMUNITY))
                db.session.commit()
                number += 1
                if number == 50:
                    started.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    assert started.wait(timeout=30)
    try:
        result = sqlite_app.test_cli_runner().invoke(args=["backup", str(target)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        saved_units = copy.execute("SELECT count(*) FROM units").fetchone()[0]
        assert copy.execute("SELECT username FROM organisers").fetchall() == [("admin",)]
    with sqlite_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Unit.id))) >= saved_units > 0

    # Restoring: stop the app, put the copy in place of the database file, start again.
    restored = tmp_path / "restored.sqlite3"
    restored.write_bytes(target.read_bytes())
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{restored}"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Unit.id))) == saved_units
        db.engine.dispose()
    assert not list(tmp_path.glob("*.partial"))


def test_backup_points_postgresql_users_to_pg_dump(app_without_database):
    result = app_without_database.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code != 0 and "pg_dump" in result.output


def test_numbers_too_large_for_the_database_are_refused_not_crashed(admin_client):
    assert admin_client.get("/console/reports/99999999999999999999").status_code == 404
    assert admin_client.get("/console/reports/?page=99999999999999999999").status_code < 500
    response = admin_client.get("/console/reports/?unit=99999999999999999999")
    assert response.status_code < 500
