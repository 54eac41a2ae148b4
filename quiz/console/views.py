"""The organisers' console: the campaign at a glance."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from quiz.extensions import db
from quiz.leaderboard import unit_rows
from quiz.models import Campaign, Question

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.route("/")
@login_required
def index():
    """The active campaign's rules and the numbers of every unit the organiser may see."""
    campaign = db.session.scalar(db.select(Campaign).where(Campaign.is_active).limit(1))
    rows = unit_rows(campaign) if campaign else []
    if not current_user.is_admin:
        visible = visible_unit_ids(current_user.unit)
        rows = [row for row in rows if row.unit.id in visible]
    question_count = db.session.scalar(db.select(db.func.count(Question.id)).where(
        Question.is_enabled, Question.is_retired.is_(False)))
    return render_template("console/index.html", campaign=campaign, rows=rows,
                           question_count=question_count,
                           total_participants=sum(row.participants for row in rows),
                           total_attempts=sum(row.attempts for row in rows))


def visible_unit_ids(unit) -> set[int]:
    """A unit and everything below it."""
    if unit is None:
        return set()
    seen, stack = set(), [unit]
    while stack:
        current = stack.pop()
        seen.add(current.id)
        stack.extend(current.children)
    return seen
