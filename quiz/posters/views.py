"""Organisers print a unit's poster, download its QR codes and watch its scans."""
import secrets
import threading
from urllib.parse import quote
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from quiz.extensions import db
from quiz.forms import BaseForm
from quiz.models import Campaign, LinkPurpose, LinkScan, Unit
from quiz.permissions import require_unit, subtree_ids, tree_order
from quiz.qr import ZipJob, qr_filename, qr_png, qr_stem, qr_svg, short_link
from quiz.slogan_rules import slogan_of_the_day
from quiz.timeutil import local_day, utcnow

bp = Blueprint("posters", __name__, url_prefix="/posters")

INSTRUCTIONS = {
    LinkPurpose.QUIZ: ("微信扫一扫 参加答题", "安全知识网络答题"),
    LinkPurpose.REPORT: ("微信扫一扫 随手拍隐患", "查找身边安全隐患"),
}


def purpose_or_404(value: str) -> LinkPurpose:
    try:
        return LinkPurpose(value)
    except ValueError:
        abort(404)


def unit_or_404(code: str) -> Unit:
    return require_unit(db.one_or_404(db.select(Unit).filter_by(code=code)))


def visible_units(root: Unit | None = None) -> list[Unit]:
    """Active units the organiser may print for, within root's subtree when given."""
    units = db.session.scalars(db.select(Unit).where(Unit.is_active).order_by(Unit.code)).all()
    allowed = None if current_user.is_admin else subtree_ids(current_user.unit)
    if root is not None:
        allowed = subtree_ids(root) if allowed is None else allowed & subtree_ids(root)
    return tree_order([unit for unit in units if allowed is None or unit.id in allowed])


def poster_context(unit: Unit, purpose: LinkPurpose) -> dict:
    campaign = db.session.scalar(db.select(Campaign).where(Campaign.is_active).limit(1))
    link = short_link(unit, purpose)
    instruction, title = INSTRUCTIONS[purpose]
    return {"unit": unit, "purpose": purpose, "campaign": campaign, "link": link,
            "display_link": link.split("://", 1)[-1], "qr": qr_svg(link, with_background=False),
            "instruction": instruction, "title": title}


@bp.route("/")
@login_required
def index():
    """Every unit the organiser may see, with its posters, codes and scan counts."""
    units = visible_units()
    today = local_day(utcnow())
    week_start = today - timedelta(days=6)
    scans: dict[tuple[int, LinkPurpose], dict[str, int]] = {}
    for row in db.session.scalars(db.select(LinkScan).where(
            LinkScan.unit_id.in_([unit.id for unit in units]))):
        figures = scans.setdefault((row.unit_id, row.purpose), {"total": 0, "today": 0, "week": 0})
        figures["total"] += row.count
        figures["today"] += row.count if row.day == today else 0
        figures["week"] += row.count if row.day >= week_start else 0
    return render_template("posters/index.html", units=units, scans=scans,
                           purposes=list(LinkPurpose), zip_form=BaseForm())


@bp.route("/<code>/<purpose>")
@login_required
def poster(code: str, purpose: str):
    """A print-ready A4 poster: theme, slogan, unit, a large vector QR code and the link."""
    unit = unit_or_404(code)
    context = poster_context(unit, purpose_or_404(purpose))
    return render_template("posters/poster.html", posters=[context],
                           slogan=slogan_of_the_day(local_day(utcnow())), single=context)


@bp.route("/bulk/<code>/<purpose>")
@login_required
def bulk(code: str, purpose: str):
    """Every poster of a subtree, one A4 page each, in one printable document."""
    root = unit_or_404(code)
    link_purpose = purpose_or_404(purpose)
    posters = [poster_context(unit, link_purpose) for unit in visible_units(root)
               if unit.kind.value != "district"]
    return render_template("posters/poster.html", posters=posters, root=root,
                           slogan=slogan_of_the_day(local_day(utcnow())), single=None)


@bp.route("/<code>/<purpose>.png")
@login_required
def png(code: str, purpose: str):
    """The QR code as a PNG, for sending in WeChat groups."""
    unit = unit_or_404(code)
    link_purpose = purpose_or_404(purpose)
    response = Response(qr_png(short_link(unit, link_purpose)), mimetype="image/png")
    return _as_download(response, qr_filename(unit, link_purpose, "png"))


@bp.route("/<code>/<purpose>.svg")
@login_required
def svg(code: str, purpose: str):
    """The QR code as SVG, for print shops."""
    unit = unit_or_404(code)
    link_purpose = purpose_or_404(purpose)
    response = Response(qr_svg(short_link(unit, link_purpose)), mimetype="image/svg+xml")
    return _as_download(response, qr_filename(unit, link_purpose, "svg"))


def _as_download(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@bp.route("/zip/<code>", methods=["POST"])
@login_required
def zip_start(code: str):
    """Start building a ZIP of every QR code (both purposes) of a subtree."""
    if not BaseForm().validate_on_submit():
        abort(400)
    root = unit_or_404(code)
    entries = [(qr_stem(unit, purpose), short_link(unit, purpose))
               for unit in visible_units(root) if unit.kind.value != "district"
               for purpose in LinkPurpose]
    job_id = secrets.token_urlsafe(12)
    job = ZipJob(job_id)
    ZipJob.remove_stale()
    job.write_status(owner=current_user.id, done=0, total=len(entries), finished=False)
    app, owner_id = current_app._get_current_object(), current_user.id

    def build():
        with app.app_context():
            job.build(entries, owner_id=owner_id)

    threading.Thread(target=build, daemon=True).start()
    return redirect(url_for("posters.zip_progress", job_id=job_id, code=root.code))


def _own_job(job_id: str) -> tuple[ZipJob, dict]:
    if not job_id.replace("-", "").replace("_", "").isalnum():
        abort(404)
    job = ZipJob(job_id)
    status = job.read_status()
    if status is None or status["owner"] != current_user.id:
        abort(404)
    return job, status


@bp.route("/zip/job/<job_id>")
@login_required
def zip_progress(job_id: str):
    """A page that shows the ZIP being built and offers it when ready."""
    _job, status = _own_job(job_id)
    return render_template("posters/zip.html", job_id=job_id, status=status,
                           code=request.args.get("code", ""))


@bp.route("/zip/job/<job_id>/status")
@login_required
def zip_status(job_id: str):
    _job, status = _own_job(job_id)
    return jsonify(done=status["done"], total=status["total"], finished=status["finished"],
                   download_url=url_for("posters.zip_download", job_id=job_id))


@bp.route("/zip/job/<job_id>/download")
@login_required
def zip_download(job_id: str):
    job, status = _own_job(job_id)
    if not status["finished"]:
        abort(409, description="压缩包还在生成中，请稍候。")
    return send_file(job.zip_path, mimetype="application/zip", as_attachment=True,
                     download_name="二维码.zip")
