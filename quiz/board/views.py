"""Public leaderboards: units and people on phones, the big screen, and the JSON behind it."""
from flask import Blueprint, Response, jsonify, render_template, request, session

from quiz.charts import daily_chart_svg, daily_series
from quiz.extensions import db
from quiz.leaderboard import METRICS, default_metric, rolled_up_rows, top_people, unit_rows
from quiz.models import Campaign, DailyTally, ScoringMode, Unit, UnitKind
from quiz.permissions import subtree_ids
from quiz.play.views import active_campaign
from quiz.shortcache import shared_response
from quiz.templating import mask_name
from quiz.timeutil import local_day, utcnow

bp = Blueprint("board", __name__)

BOARD_KINDS = [UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT, UnitKind.ENTERPRISE,
               UnitKind.SCHOOL]
PUBLIC_METRICS = ("points", "average", "participation", "participants", "attempts")


def chosen_kind() -> UnitKind:
    return next((kind for kind in BOARD_KINDS if kind.value == request.args.get("kind")),
                UnitKind.COMMUNITY)


def chosen_metric(campaign: Campaign) -> str:
    metric = request.args.get("metric", "")
    return metric if metric in PUBLIC_METRICS else default_metric(campaign)


@bp.route("/board/")
def units():
    """Units of one kind ranked by a metric; a street's figures include its communities.

    The page is the same for every visitor, so each worker renders it at most once every
    LEADERBOARD_CACHE_SECONDS per kind and metric (quiz/shortcache.py); a resident's own unit
    is marked by the link's #unit-<code> (CSS :target), not by the server. A visitor with a
    message waiting (flash) gets a page of their own, so the message is neither lost nor shared.
    """
    kind = chosen_kind()
    asked = request.args.get("metric", "")
    if "_flashes" in session:
        return render_units(kind)
    return shared_response(("board-page", kind.value, asked if asked in PUBLIC_METRICS else ""),
                           lambda: render_units(kind), "text/html")


def render_units(kind: UnitKind) -> str:
    campaign = active_campaign()
    metric = chosen_metric(campaign)
    return render_template(
        "board/units.html", campaign=campaign, rows=unit_rows(campaign, kind, metric),
        kind=kind, kinds=BOARD_KINDS, metric=metric,
        metrics=[(key, METRICS[key][0]) for key in PUBLIC_METRICS],
        is_contest=campaign.scoring_mode is ScoringMode.ACCUMULATE)


@bp.route("/board/people")
def people():
    """The best individuals, overall or within one unit's subtree; names masked."""
    campaign = active_campaign()
    code = request.args.get("unit", "")
    unit = db.session.scalar(db.select(Unit).filter_by(code=code, is_active=True)) if code else None
    ranked = top_people(campaign, subtree_ids(unit) if unit else None)
    return render_template("board/people.html", campaign=campaign, ranked=ranked, unit=unit,
                           kinds=BOARD_KINDS, kind=None, metric=default_metric(campaign),
                           is_contest=campaign.scoring_mode is ScoringMode.ACCUMULATE)


@bp.route("/board/screen")
def screen():
    """The consultation-day big screen (1920x1080); it refreshes itself from /api/leaderboard."""
    campaign = active_campaign()
    return render_template("board/screen.html", campaign=campaign,
                           data=leaderboard_data(campaign, chosen_kind()))


@bp.route("/board/chart.svg")
def chart():
    """The daily participation chart of the active campaign."""
    campaign = active_campaign()
    today = local_day(utcnow())
    response = Response(daily_chart_svg(daily_series(campaign, today), highlight=today),
                        mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 30
    return response


@bp.route("/api/leaderboard", endpoint="api")
def api_leaderboard():
    """Public figures as JSON: totals, ranked units of one kind, top people (names masked)."""
    kind = chosen_kind()
    asked = request.args.get("metric", "")

    def body() -> bytes:
        campaign = active_campaign()
        return jsonify(leaderboard_data(campaign, kind, chosen_metric(campaign))).get_data()

    key = ("api-body", kind.value, asked if asked in PUBLIC_METRICS else "")
    response = shared_response(key, body, "application/json")
    # Public and identical for everyone: a shared cache may keep it for a few seconds.
    response.cache_control.public = True
    response.cache_control.max_age = 5
    return response


def leaderboard_data(campaign: Campaign, kind: UnitKind, metric: str | None = None) -> dict:
    metric = metric or default_metric(campaign)
    rows = rolled_up_rows(campaign)
    roots = [row for row in rows.values() if row.unit.parent_id not in rows]
    ranked = unit_rows(campaign, kind, metric, rolled=rows)
    today = db.session.scalar(db.select(DailyTally).filter_by(
        campaign_id=campaign.id, day=local_day(utcnow())))
    return {
        "campaign": {"year": campaign.year, "title": campaign.title, "theme": campaign.theme},
        "totals": {"participants": sum(r.participants for r in roots),
                   "attempts": sum(r.attempts for r in roots),
                   "attempts_today": today.attempts if today else 0,
                   "units_started": sum(1 for r in rows.values() if r.participants
                                        and r.unit.kind is not UnitKind.DISTRICT),
                   "units": sum(1 for r in rows.values() if r.unit.kind is not UnitKind.DISTRICT)},
        "kind": {"value": kind.value, "label": kind.label},
        "metric": {"value": metric, "label": METRICS[metric][0]},
        "units": [{"rank": row.rank, "code": row.unit.code, "name": row.unit.path_name,
                   "short_name": row.unit.name,
                   "participants": row.participants, "attempts": row.attempts,
                   "average": round(row.average_best, 1), "points": row.points_total,
                   "participation_rate": round(row.participation_rate, 4),
                   "started": row.has_started} for row in ranked],
        "people": [{"rank": index, "name": mask_name(participant.name),
                    "unit": unit.path_name, "score": standing.best_score,
                    "points": standing.points_total, "duration_ms": standing.best_duration_ms}
                   for index, (standing, participant, unit) in enumerate(
                       top_people(campaign, limit=10), start=1)],
    }
