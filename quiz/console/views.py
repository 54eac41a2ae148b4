"""The organisers' console: the campaign at a glance."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from quiz.extensions import db
from quiz.leaderboard import unit_rows
from quiz.forms import BaseForm
from quiz.models import Campaign, Question, Slogan, SloganStatus
from quiz.permissions import admin_required, subtree_ids
from quiz.slogan_rules import SloganRefused, moderate
from quiz.slogans.forms import RejectForm

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.route("/")
@login_required
def index():
    """The active campaign's rules and the numbers of every unit the organiser may see."""
    campaign = db.session.scalar(db.select(Campaign).where(Campaign.is_active).limit(1))
    rows = unit_rows(campaign) if campaign else []
    if not current_user.is_admin:
        visible = subtree_ids(current_user.unit)
        rows = [row for row in rows if row.unit.id in visible]
    question_count = db.session.scalar(db.select(db.func.count(Question.id)).where(
        Question.is_enabled, Question.is_retired.is_(False)))
    return render_template("console/index.html", campaign=campaign, rows=rows,
                           question_count=question_count,
                           total_participants=sum(row.participants for row in rows),
                           total_attempts=sum(row.attempts for row in rows))



@bp.route("/slogans")
@admin_required
def slogans():
    """Public slogan submissions waiting for a decision, and the latest decisions."""
    pending = db.session.scalars(db.select(Slogan).where(
        Slogan.status == SloganStatus.PENDING).order_by(Slogan.id)).all()
    decided = db.session.scalars(db.select(Slogan).where(
        Slogan.is_official.is_(False), Slogan.status != SloganStatus.PENDING)
        .order_by(Slogan.moderated_at.desc()).limit(30)).all()
    return render_template("console/slogans.html", pending=pending, decided=decided,
                           approve_form=BaseForm(), reject_form=RejectForm())


@bp.route("/slogans/<int:slogan_id>/<decision>", methods=["POST"])
@admin_required
def moderate_slogan(slogan_id: int, decision: str):
    """Approve or reject one submission."""
    if decision not in ("approve", "reject"):
        abort(404)
    form = RejectForm() if decision == "reject" else BaseForm()
    if not form.validate_on_submit():
        abort(400)
    slogan = db.get_or_404(Slogan, slogan_id)
    try:
        moderate(slogan, current_user, approve=decision == "approve",
                 reason=form.reason.data if decision == "reject" else None)
    except SloganRefused as refusal:
        abort(400, description=str(refusal))
    flash(f"已{'通过' if decision == 'approve' else '退回'}：{slogan.text}")
    return redirect(url_for("console.slogans"))
