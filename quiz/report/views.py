"""Hazard reports (查找身边隐患): the public form, the tracking page and the exposure board."""
import base64
import secrets

from flask import (Blueprint, abort, jsonify, redirect, render_template, request,
                   send_file, url_for)

from quiz.devices import device_key, device_limit_key
from quiz.extensions import db, limiter
from quiz.models import Unit, UnitKind
from quiz.models.report import HazardCategory, HazardReport, ReportPhoto, ReportStatus
from quiz.photos import PhotoRefused, clean_photo, photo_path, store_photo
from quiz.play.views import unit_choices
from quiz.report.forms import ClaimForm, DisputeForm, PhotoForm, ReportForm, TrackForm
from quiz.report_workflow import (
    MAX_PHOTOS,
    NewReport,
    WorkflowRefused,
    can_dispute,
    claim_reward,
    claimable_photos,
    dispute,
    dispute_deadline,
    find_by_code,
    followed_report,
    format_code,
    public_events,
    submit_report,
)
from quiz.slogan_rules import slogan_of_the_day
from quiz.timeutil import local_day, utcnow

bp = Blueprint("report", __name__, url_prefix="/r")


def _form_page(form: ReportForm, unit: Unit | None, status: int = 200, photos=(), message=None):
    return render_template("report/new.html", form=form, unit=unit, photos=photos, message=message,
                           max_photos=MAX_PHOTOS, photo_form=PhotoForm(),
                           slogan=slogan_of_the_day(local_day(utcnow()))), status


def _preset_unit(code: str) -> Unit | None:
    return db.session.scalar(db.select(Unit).filter_by(code=code, is_active=True)) if code else None


@bp.route("/", methods=["GET"])
def new():
    """The report form; a poster's link preselects its unit."""
    unit = _preset_unit(request.args.get("unit", ""))
    form = ReportForm(submission_key=secrets.token_urlsafe(24), unit=unit.code if unit else "")
    form.unit.choices = unit_choices()
    return _form_page(form, unit)


@bp.route("/", methods=["POST"])
@limiter.limit("10 per hour", key_func=device_limit_key)
@limiter.limit("300 per hour")  # one enterprise behind one address
def create():
    form = ReportForm()
    form.unit.choices = unit_choices()
    key = device_key()
    photos = claimable_photos(form.tokens(), key)
    unit = _preset_unit(form.unit.data or "")
    # A form sent without JavaScript carries its photos itself.
    refused = []
    for slot in range(MAX_PHOTOS):
        upload = request.files.get(f"photo{slot}")
        if upload is None or not upload.filename or len(photos) >= MAX_PHOTOS:
            continue
        try:
            photos.append(_store_upload(upload.read(), key))
        except PhotoRefused as error:
            refused.append(f"第{slot + 1}张照片：{error}")
    if refused or not form.validate():
        db.session.commit()  # keep the photos that were accepted: the form carries their tokens
        form.photo_tokens.data = ",".join(photo.token for photo in photos)
        return _form_page(form, unit, 422, photos, message="；".join(refused) or "请检查标红的内容。")
    anonymous = form.anonymous.data
    report, _created = submit_report(
        NewReport(category=HazardCategory(form.category.data), place=form.place.data,
                  description=form.description.data, unit=unit,
                  latitude=form.latitude.data, longitude=form.longitude.data,
                  name="" if anonymous else form.name.data or "",
                  phone="" if anonymous else form.phone.data or "",
                  allows_publication=form.allows_publication.data),
        form.submission_key.data, [photo.token for photo in photos], key)
    return redirect(url_for("report.track_case", code=report.tracking_code, new=1), 303)


def _store_upload(data: bytes, uploader_key: str) -> ReportPhoto:
    clean = clean_photo(data)
    photo = ReportPhoto(token=store_photo(clean), uploader_key=uploader_key, width=clean.width,
                        height=clean.height, size_bytes=len(clean.image))
    db.session.add(photo)
    return photo


@bp.route("/photos", methods=["POST"])
@limiter.limit("30 per hour", key_func=device_limit_key)
@limiter.limit("900 per hour")
def upload_photo():
    """One photo, sent while the person is still typing; answers JSON with a token and a preview."""
    form = PhotoForm()
    if not form.validate():
        return jsonify(error="页面已过期，请刷新页面后重试。"), 400
    upload = request.files.get("photo")
    if upload is None:
        return jsonify(error="没有收到照片，请重新选择。"), 400
    try:
        photo = _store_upload(upload.read(), device_key())
    except PhotoRefused as error:
        return jsonify(error=str(error)), 422
    db.session.commit()
    thumbnail = base64.b64encode(photo_path(photo.token, thumbnail=True).read_bytes()).decode()
    return jsonify(token=photo.token, preview=f"data:image/jpeg;base64,{thumbnail}")


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["POST"])
def track():
    form = TrackForm()
    if form.validate_on_submit():
        report = find_by_code(form.code.data)
        if report is not None:
            return redirect(url_for("report.track_case", code=report.tracking_code), 303)
        form.code.errors.append("没有找到这个查询码，请核对后重试。")
        return render_template("report/track.html", form=form), 404
    return render_template("report/track.html", form=form), 422 if form.errors else 200


@bp.route("/c/<code>")
@limiter.limit("120 per minute")  # ~49 random bits per code: this rate guesses none in a lifetime
def track_case(code: str):
    """Status, public notes and deadline; never contact details, private notes or other reports."""
    report = find_by_code(code)
    if report is None:
        abort(404, description="没有找到这个查询码，请核对后重试。")
    return _case_page(report)


def _case_page(report: HazardReport, dispute_form=None, claim_form=None, status: int = 200,
               message: str | None = None):
    followed = followed_report(report)
    response = render_template(
        "report/case.html", report=report, followed=followed, code=format_code(report.tracking_code),
        events=public_events(followed), is_new=request.args.get("new") == "1",
        dispute_form=dispute_form or DisputeForm(), claim_form=claim_form or ClaimForm(),
        can_dispute=can_dispute(report), dispute_deadline=dispute_deadline(report), message=message)
    return response, status, {"Referrer-Policy": "no-referrer"}


@bp.route("/c/<code>/dispute", methods=["POST"])
@limiter.limit("5 per minute")
def dispute_case(code: str):
    report = find_by_code(code) or abort(404, description="没有找到这个查询码。")
    form = DisputeForm()
    if not form.validate():
        return _case_page(report, dispute_form=form, status=422)
    try:
        dispute(report, form.reason.data)
    except WorkflowRefused as error:
        db.session.rollback()
        return _case_page(report, dispute_form=form, status=409, message=str(error))
    db.session.commit()
    return redirect(url_for("report.track_case", code=report.tracking_code), 303)


@bp.route("/c/<code>/claim", methods=["POST"])
@limiter.limit("5 per minute")
def claim(code: str):
    report = find_by_code(code) or abort(404, description="没有找到这个查询码。")
    form = ClaimForm()
    if not form.validate():
        return _case_page(report, claim_form=form, status=422)
    try:
        claim_reward(report, form.phone.data or "")
    except WorkflowRefused as error:
        db.session.rollback()
        return _case_page(report, claim_form=form, status=409, message=str(error))
    db.session.commit()
    return redirect(url_for("report.track_case", code=report.tracking_code), 303)


def published_cases():
    return db.select(HazardReport).where(HazardReport.published_at.is_not(None),
                                         HazardReport.allows_publication,
                                         HazardReport.status.in_([s for s in ReportStatus if s.is_verified]))


@bp.route("/board")
def exposure_board():
    """隐患曝光台: verified cases the reporter allowed and an administrator approved, redacted."""
    page = db.paginate(published_cases().order_by(HazardReport.published_at.desc()),
                       per_page=10, error_out=False)
    return render_template("report/board.html", page=page)


@bp.route("/board/photo/<token>.jpg")
def board_photo(token: str):
    photo = db.session.scalar(db.select(ReportPhoto).filter_by(token=token))
    if photo is None or photo.report is None or not is_public(photo.report):
        abort(404, description="没有找到这张照片。")
    return send_photo(photo, thumbnail=request.args.get("size") == "thumb", public=True)


def is_public(report: HazardReport) -> bool:
    return report.published_at is not None and report.allows_publication and report.status.is_verified


def send_photo(photo: ReportPhoto, thumbnail: bool, public: bool):
    path = photo_path(photo.token, thumbnail=thumbnail)
    if not path.exists():
        abort(404, description="没有找到这张照片。")
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.app_context_processor
def report_helpers():
    return {"coarse_place": coarse_place}


def coarse_place(report: HazardReport) -> str:
    """Street level at most: the exposure board must not point at a door."""
    unit, street = report.unit, None
    while unit is not None:
        if unit.kind is UnitKind.STREET:
            street = unit
        district = unit
        unit = unit.parent
    if report.unit is None:
        return "本辖区"
    return street.name if street is not None else district.name
