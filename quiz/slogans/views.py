"""Public slogan pages: the official slogans, submissions and the vote ranking."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from quiz.devices import device_key
from quiz.extensions import db, limiter
from quiz.models import CampaignTheme, Slogan, SloganStatus, SloganVote
from quiz.slogan_rules import SloganRefused, ranking, submit_slogan, vote
from quiz.slogans.forms import SloganForm, VoteForm
from quiz.timeutil import local_day, utcnow

bp = Blueprint("slogans", __name__, url_prefix="/slogans")


def _page(form: SloganForm, status: int = 200):
    official = db.session.scalars(db.select(Slogan).where(Slogan.is_official).order_by(Slogan.id)).all()
    themes = db.session.scalars(db.select(CampaignTheme).order_by(CampaignTheme.year.desc())).all()
    ranked = ranking()
    voted = set(db.session.scalars(db.select(SloganVote.slogan_id).where(
        SloganVote.device_key == device_key()))) if ranked else set()
    return render_template("slogans/index.html", form=form, official=official, themes=themes,
                           ranked=ranked, voted=voted, vote_form=VoteForm()), status


@bp.route("/")
def index():
    """Official slogans and themes, the public ranking, and the submission form."""
    return _page(SloganForm())


@bp.route("/new", methods=["POST"])
@limiter.limit("20 per hour")
def new():
    """Take a public slogan for moderation; it is not shown until approved."""
    form = SloganForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        submit_slogan(form.text.data, form.author_name.data, None, device_key(),
                      local_day(utcnow()))
    except SloganRefused as refusal:
        form.text.errors.append(str(refusal))
        return _page(form, status=refusal.status)
    flash("投稿成功！审核通过后会出现在标语榜上。")
    return redirect(url_for("slogans.index"))


@bp.route("/<int:slogan_id>/vote", methods=["POST"])
@limiter.limit("60 per hour")
def cast_vote(slogan_id: int):
    """One vote per phone per approved slogan."""
    if not VoteForm().validate_on_submit():
        abort(400)
    slogan = db.one_or_404(db.select(Slogan).filter_by(
        id=slogan_id, status=SloganStatus.APPROVED, is_official=False))
    try:
        counted = vote(slogan, device_key())
    except SloganRefused as refusal:
        abort(400, description=str(refusal))
    flash("投票成功，谢谢参与！" if counted else "您已经为这条标语投过票了。")
    return redirect(url_for("slogans.index") + f"#slogan-{slogan.id}")
