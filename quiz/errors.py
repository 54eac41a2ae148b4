"""Error pages in plain Chinese (JSON for API and fetch calls), and response headers."""
import math
import time

from flask import Flask, jsonify, make_response, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from quiz.extensions import db, limiter

MESSAGES = {
    400: "请求的内容不正确，请返回上一页检查后重试。",
    403: "您没有权限查看这个页面。",
    404: "没有找到这个页面。",
    405: "不支持这种访问方式。",
    413: "上传的内容太大了。",
    429: "操作太频繁了，请稍后再试。",
    500: "服务器出了点问题，我们会尽快处理，请稍后再试。",
    503: "服务暂时繁忙，请稍后再试。",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json" \
        or request.headers.get("X-Requested-With") == "fetch"


def render_error(code: int, message: str):
    if wants_json():
        return jsonify(error=message), code
    return render_template("errors/error.html", code=code, message=message), code


def handle_http_error(error: HTTPException):
    code = error.code or 500
    default = MESSAGES.get(code, MESSAGES[400])
    # Our abort(404, description="…") carries a Chinese message for the person; werkzeug's
    # and the limiter's own descriptions are English and technical, so they are replaced.
    described = error.description or ""
    is_chinese = any("\u4e00" <= char <= "\u9fff" for char in described)
    if isinstance(error, RateLimitExceeded):
        wait = seconds_until_allowed(error)
        response = make_response(render_error(code, f"操作太频繁了，请{in_words(wait)}后再试。"))
        response.headers["Retry-After"] = str(wait)
        return response
    return render_error(code, described if is_chinese else default)


def seconds_until_allowed(error: RateLimitExceeded) -> int:
    """Until the refused limit's window ends: the limiter knows when the count started."""
    refused = limiter.current_limit
    if refused is not None and refused.breached:
        return max(1, math.ceil(refused.window.reset_time - time.time()))
    return error.limit.limit.get_expiry()  # the whole window: surely over by then


def in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)}分钟"
    return f"{math.ceil(seconds / 3600)}小时"


def handle_csrf_error(_error: CSRFError):
    return render_error(400, "页面已过期或来源不明，请刷新页面后重试。")


def handle_database_down(_error: OperationalError):
    db.session.rollback()
    return render_error(503, "系统繁忙，请稍后再试。您已保存的内容不会丢失。")


def handle_out_of_range(_error: Exception):
    """A number too large for the database (SQLite's OverflowError, PostgreSQL's DataError)."""
    db.session.rollback()
    return render_error(400, MESSAGES[400])


def handle_unexpected(_error: Exception):
    db.session.rollback()
    return render_error(500, MESSAGES[500])


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


def add_security_headers(response):
    """Add the headers a view has not set itself. One look at the names already there:
    werkzeug answers each missing name's lookup with a KeyError it builds and catches."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if response.mimetype == "text/html" and "cache-control" not in present:
        # Pages carry a person's name or answers: never let a shared cache keep them.
        headers["Cache-Control"] = "private, no-store"
    return response


def register(app: Flask) -> None:
    """Install the error handlers and the response headers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(DataError, handle_out_of_range)
    app.register_error_handler(500, handle_unexpected)
    app.after_request(add_security_headers)
