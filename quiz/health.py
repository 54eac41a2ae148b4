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


def assign_request_id() -> None:
    """Keep nginx's X-Request-ID when it sends a sane one, so one id follows a request everywhere."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def add_request_id(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def register(app: Flask) -> None:
    app.before_request(assign_request_id)
    app.after_request(add_request_id)
