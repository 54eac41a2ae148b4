"""Flask extensions, created unbound and bound to the app in register_extensions()."""
from datetime import datetime
from pathlib import Path
from typing import Annotated

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.orm import DeclarativeBase, mapped_column

from quiz.rate_limit_storage import shared_file_uri  # also registers shared-file://
from quiz.sqlite_writer import take_turns


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


UTCDateTime = Annotated[datetime, mapped_column(DateTime(timezone=True))]

db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录组织者后台。"
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers go on while one writer commits; busy_timeout queues writers
    # instead of failing them when many residents submit in the same second.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def register_extensions(app: Flask) -> None:
    """Bind every extension to the app."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    # Pooled connections are not tested before each use (pool_pre_ping): on PostgreSQL the
    # test is a round trip that cost every request about 0.5 ms of CPU (bench/results-load.md).
    # If the server restarts, the first request to meet a dead connection gets the 503 page
    # 「系统繁忙，请稍后再试」 (quiz.errors), SQLAlchemy replaces the whole pool, and the retry
    # goes through. Connections are renewed hourly so that no firewall drops an idle one.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        options.setdefault("pool_recycle", 3600)
    if url not in ("sqlite://", "sqlite:///:memory:"):  # an in-memory database has no pool
        options.setdefault("pool_size", app.config["DATABASE_POOL_SIZE"])
    db.init_app(app)
    migrate.init_app(app, db)
    # Templates get the proxy, not the loaded user: resident pages never look at it, and loading
    # it checks the session's fingerprint (a SHA-512 of address and browser) on every page.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    csrf.init_app(app)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = shared_file_uri(
            str(Path(app.instance_path) / "rate-limits.sqlite3"))
    limiter.init_app(app)
    drop_idle_limiter_hook(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)
            take_turns(db.engine, db.session)


def drop_idle_limiter_hook(app: Flask) -> None:
    """Take Flask-Limiter's before_request check off every request when it has nothing to check.

    That hook applies the limits that are not on a view: default, application, meta and
    blueprint limits. A view's own ``@limiter.limit`` is checked by its decorator whatever the
    hook does. This app sets only the latter, and the hook cost every request about 0.1 ms, a
    tenth of the paper page's CPU (bench/results-load.md). Should one of the others be set
    (RATELIMIT_DEFAULT, say), the hook stays.
    """
    manager = limiter.limit_manager
    # Private names: Flask-Limiter offers no public way to ask whether such limits exist.
    if (manager._default_limits or manager._application_limits or limiter._meta_limits
            or manager._blueprint_limits):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
