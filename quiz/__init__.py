"""SafetyMonth: safety-month quiz, hazard reports, leaderboards and QR posters."""
import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from quiz import (auth, backup, board, cli, console, errors, health, learn, play, posters, report, slogans,
                  templating)
from quiz.config import PROJECT_ROOT, Config
from quiz.extensions import register_extensions
from quiz.sessions import SessionInterface


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app; tests pass ``overrides`` instead of reading instance/config.py."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"),
                instance_path=str(PROJECT_ROOT / "instance"), instance_relative_config=True)
    app.config.from_object(Config)
    if overrides is None:
        app.config.from_pyfile("config.py", silent=True)  # instance/config.py
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    else:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set")
    if app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"],
                                x_proto=app.config["PROXY_HOPS"], x_host=app.config["PROXY_HOPS"])
    app.url_map.converters["int"] = DatabaseInteger
    app.session_interface = SessionInterface()
    register_extensions(app)
    for module in (play, learn, report, board, slogans, posters, auth, console, cli, backup, health):
        app.register_blueprint(module.bp)
    app.register_blueprint(report.open311.bp)
    errors.register(app)
    health.register(app)
    templating.register(app)
    return app


class DatabaseInteger(IntegerConverter):
    """<int:…> in URLs stops at what an id column holds: a longer number is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def instance_secret_key(instance: Path) -> str:
    """Read the secret key kept in the instance folder, creating it on first start."""
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: of several workers starting at once, exactly one writes the key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_hex(32))
    return path.read_text().strip()
