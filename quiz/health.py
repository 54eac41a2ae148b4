"""/healthz for load balancers, and a request id on every response for the logs."""
import re
import uuid

from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from quiz.extensions import db, limiter

bp = Blueprint("health", __name__)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """200 when the app can reach its database, 503 otherwise; never cached."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        response = jsonify(status="database unavailable")
        response.status_code = 503
    else:
        response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


def request_id() -> str:
    """This request's id: nginx's X-Request-ID when it sends a sane one, so that one id follows
    a request everywhere, else a new one; the same however often it is asked for."""
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
    return g.request_id


def add_request_id(response):
    # Taken here, not in a before_request hook: a request that an earlier hook refuses (a
    # missing CSRF token, a rate limit) skips the later hooks but still gets its response.
    response.headers["X-Request-ID"] = request_id()
    return response


def register(app: Flask) -> None:
    app.after_request(add_request_id)
