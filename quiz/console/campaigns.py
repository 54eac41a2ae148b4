"""Console: campaigns and their paper rules, managed by district administrators."""
from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from quiz.console.forms import CampaignForm
from quiz.console.views import bp
from quiz.demo import campaign_from_preset
from quiz.extensions import db
from quiz.forms import BaseForm
from quiz.models import Attempt, Campaign, Question, QuestionType, ScoringMode
from quiz.papers import PRESETS, validate_sections
from quiz.permissions import admin_required

# Rules a paper already drawn depends on: frozen once anyone has answered.
FROZEN_ONCE_ANSWERED = ("paper_sections", "scoring_mode", "partial_credit", "categories")


def category_choices() -> list[SelectChoice]:
    names = db.session.scalars(db.select(Question.category).distinct().order_by(Question.category))
    return [SelectChoice(name, name) for name in names]


def available_counts(categories: list[str]) -> dict[str, int]:
    """Questions available per type within the chosen categories."""
    query = db.select(Question.qtype, db.func.count(Question.id)).where(
        Question.is_enabled, Question.is_retired.is_(False)).group_by(Question.qtype)
    if categories:
        query = query.where(Question.category.in_(categories))
    counts = {qtype.value: count for qtype, count in db.session.execute(query)}
    counts["any"] = sum(counts.values())
    return counts


@bp.route("/campaigns")
@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@bp.route("/campaigns/new/<preset>", methods=["GET", "POST"])
@admin_required
def campaigns(campaign_id: int | None = None, preset: str | None = None):
    """List campaigns, or edit one (a new one starts from a preset's rules)."""
    if campaign_id is None and preset is None:
        listing = db.session.scalars(db.select(Campaign).order_by(Campaign.year.desc())).all()
        return render_template("console/campaigns.html", campaigns=listing, presets=PRESETS,
                               activate_form=BaseForm())
    if preset is not None and preset not in PRESETS:
        abort(404)
    campaign = db.get_or_404(Campaign, campaign_id) if campaign_id is not None else None
    template = campaign or campaign_from_preset(preset, year=2025, title="", theme="",
                                                starts_on=None, ends_on=None, consultation_day=None)
    has_answers = campaign is not None and db.session.scalar(
        db.select(db.func.count(Attempt.id)).where(Attempt.campaign_id == campaign.id)) > 0
    form = CampaignForm(obj=template if request.method == "GET" else None)
    if request.method == "GET":
        form.scoring_mode.data = template.scoring_mode.value
        form.categories.data = list(template.categories or [])
        for entry, section in zip(form.sections, template.paper_sections + [{}] * 8):
            entry.form.type.data = section.get("type", "any")
            entry.form.category.data = section.get("category") or ""
            entry.form.count.data = section.get("count")
            entry.form.points.data = section.get("points")
    choices = category_choices()
    form.categories.choices = choices
    for entry in form.sections:
        entry.form.category.choices = [SelectChoice("", "不限分类")] + choices
    if form.validate_on_submit():
        sections = form.paper_sections()
        problems = validate_sections(sections)
        counts = available_counts(form.categories.data)
        for section in [] if problems else sections:  # only sections that passed the rules
            if not section["category"] and section["count"] > counts.get(section["type"], 0):
                label = "各题型" if section["type"] == "any" else QuestionType(section["type"]).label
                problems.append(f"题库中{label}只有 {counts.get(section['type'], 0)} 道，"
                                f"不够出 {section['count']} 道")
        changes = {"paper_sections": sections, "scoring_mode": ScoringMode(form.scoring_mode.data),
                   "partial_credit": form.partial_credit.data, "categories": form.categories.data}
        if has_answers and any(getattr(campaign, name) != value for name, value in changes.items()):
            problems.append("已经有人答题，试卷组成、计分方式和出题范围不能再改；时限、次数、日期等可以改。")
        if problems:
            return render_template("console/campaign_form.html", form=form, campaign=campaign,
                                   problems=problems, counts=counts, has_answers=has_answers), 400
        if campaign is None:
            campaign = Campaign(is_active=False)
            db.session.add(campaign)
        for name in ("year", "title", "theme", "starts_on", "ends_on", "consultation_day",
                     "time_limit_seconds", "attempts_per_day", "pass_mark"):
            setattr(campaign, name, getattr(form, name).data)
        for name, value in changes.items():
            setattr(campaign, name, value)
        db.session.commit()
        flash(f"已保存：{campaign.title}")
        return redirect(url_for("console.campaigns"))
    return render_template("console/campaign_form.html", form=form, campaign=campaign,
                           problems=[], counts=available_counts(form.categories.data or []),
                           has_answers=has_answers), 400 if form.errors else 200


@bp.route("/campaigns/<int:campaign_id>/activate", methods=["POST"])
@admin_required
def activate_campaign(campaign_id: int):
    """Make this the campaign residents answer; the others stop taking new papers."""
    if not BaseForm().validate_on_submit():
        abort(400)
    campaign = db.get_or_404(Campaign, campaign_id)
    for other in db.session.scalars(db.select(Campaign).where(Campaign.is_active)):
        other.is_active = False
    campaign.is_active = True
    db.session.commit()
    flash(f"现在进行中的活动：{campaign.title}")
    return redirect(url_for("console.campaigns"))
