"""The public unit leaderboard for phones."""
from flask import Blueprint, render_template, request

from quiz.leaderboard import unit_rows
from quiz.models import ScoringMode, UnitKind
from quiz.play.views import active_campaign

bp = Blueprint("board", __name__, url_prefix="/board")

BOARD_KINDS = [UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT, UnitKind.ENTERPRISE,
               UnitKind.SCHOOL]


@bp.route("/")
def units():
    """Units of one kind ranked by the campaign's unit metric."""
    campaign = active_campaign()
    kind = next((kind for kind in BOARD_KINDS if kind.value == request.args.get("kind")),
                UnitKind.COMMUNITY)
    return render_template(
        "board/units.html", campaign=campaign, rows=unit_rows(campaign, kind), kind=kind,
        kinds=BOARD_KINDS, highlight=request.args.get("unit", ""),
        is_contest=campaign.scoring_mode is ScoringMode.ACCUMULATE)
