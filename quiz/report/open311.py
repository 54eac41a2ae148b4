"""An Open311 GeoReport v2 interface, so other civic systems can read and submit reports.

Reading shows only what the exposure board shows (published, verified cases, redacted); submitting
needs an API key from OPEN311_API_KEYS. Our own state is in status_notes.
"""
import secrets
from datetime import datetime, time

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from quiz.extensions import csrf, db, limiter
from quiz.models.report import HazardCategory, HazardReport, ReportChannel
from quiz.report.views import coarse_place, published_cases
from quiz.report_workflow import NewReport, submit_report
from quiz.timeutil import local_time, local_zone

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)  # machine clients authenticate with an API key, not a session


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        self.code, self.description = code, description


@bp.errorhandler(Open311Error)
def open311_error(error: Open311Error):
    return jsonify([{"code": error.code, "description": error.description}]), error.code


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return jsonify([{"code": error.code, "description": "请求不正确或资源不存在。"}]), error.code


@bp.route("/services.json")
def services():
    return jsonify([{"service_code": category.value, "service_name": category.label,
                     "description": f"安全隐患：{category.label}", "metadata": False,
                     "type": "realtime", "keywords": "安全隐患", "group": "查找身边隐患"}
                    for category in HazardCategory])


def as_request(report: HazardReport) -> dict:
    day = datetime.combine(local_time(report.submitted_at).date(), time(), local_zone())
    return {
        "service_request_id": str(report.id),
        "status": "open" if report.status.is_open else "closed",
        "status_notes": report.status.label,
        "service_name": report.category.label,
        "service_code": report.category.value,
        "description": report.public_description,
        "requested_datetime": day.isoformat(),  # the day only, as on the exposure board
        "address": coarse_place(report),
        "media_url": None,
    }


@bp.route("/requests.json", methods=["GET"])
def list_requests():
    query = published_cases()
    code = request.args.get("service_code")
    if code:
        if code not in {category.value for category in HazardCategory}:
            raise Open311Error(400, "service_code 不正确。")
        query = query.where(HazardReport.category == HazardCategory(code))
    reports = db.session.scalars(query.order_by(HazardReport.id.desc()).limit(1000)).all()
    status = request.args.get("status")
    return jsonify([as_request(report) for report in reports
                    if status not in ("open", "closed") or as_request(report)["status"] == status])


@bp.route("/requests/<int:report_id>.json")
def show_request(report_id: int):
    report = db.session.scalar(published_cases().where(HazardReport.id == report_id))
    if report is None:
        raise Open311Error(404, "没有这个公开的案件。")
    return jsonify([as_request(report)])


@bp.route("/requests.json", methods=["POST"])
@limiter.limit("120 per minute")
def create_request():
    if request.values.get("api_key", "") not in current_app.config["OPEN311_API_KEYS"]:
        raise Open311Error(403, "api_key 无效。")
    values = request.values
    code = values.get("service_code", "")
    if code not in {category.value for category in HazardCategory}:
        raise Open311Error(400, "service_code 不正确。")
    description = (values.get("description") or "").strip()
    place = (values.get("address_string") or "").strip()
    if not 5 <= len(description) <= 500:
        raise Open311Error(400, "description 应为 5 到 500 个字。")
    if not 1 <= len(place) <= 120:
        raise Open311Error(400, "address_string 必填，不超过 120 个字。")
    if any(ord(char) < 32 and char not in "\n\r\t" for char in description + place):
        raise Open311Error(400, "内容中有无法识别的字符。")
    try:
        latitude = float(values["lat"]) if values.get("lat") else None
        longitude = float(values["long"]) if values.get("long") else None
    except ValueError:
        raise Open311Error(400, "lat/long 不正确。") from None
    if (latitude is None) != (longitude is None) or (latitude is not None and not (
            -90 <= latitude <= 90 and -180 <= longitude <= 180)):
        raise Open311Error(400, "lat/long 不正确。")
    name = " ".join(part for part in (values.get("last_name", ""), values.get("first_name", "")) if part)[:20]
    phone = (values.get("phone") or "")[:20]
    key = request.headers.get("Idempotency-Key") or secrets.token_urlsafe(24)
    if not 8 <= len(key) <= 60:
        raise Open311Error(400, "Idempotency-Key 应为 8 到 60 个字符。")
    report, _created = submit_report(
        NewReport(category=HazardCategory(code), place=place, description=description,
                  latitude=latitude, longitude=longitude, name=name, phone=phone,
                  channel=ReportChannel.API), f"api:{key}", [], "api")
    return jsonify([{"service_request_id": str(report.id), "token": report.tracking_code,
                     "service_notice": "已收到，凭 token 查询办理进度。"}]), 201
