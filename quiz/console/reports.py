"""The hazard report queue in the console (placeholder)."""
from quiz.console.views import bp


@bp.route("/reports/")
def reports():
    return "隐患举报即将上线"
