"""Hazard reports (查找身边隐患): where a unit's report poster leads."""
from flask import Blueprint, render_template, request

from quiz.extensions import db
from quiz.models import Unit
from quiz.slogan_rules import slogan_of_the_day
from quiz.timeutil import local_day, utcnow

bp = Blueprint("report", __name__, url_prefix="/r")


@bp.route("/")
def new():
    """How to report a hazard now: the 12350 hotline, with the poster's unit named.

    The online form with photos and tracking is the next step of this blueprint.
    """
    code = request.args.get("unit", "")
    unit = db.session.scalar(db.select(Unit).filter_by(code=code, is_active=True)) if code else None
    return render_template("report/new.html", unit=unit,
                           slogan=slogan_of_the_day(local_day(utcnow())))
