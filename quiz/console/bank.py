"""The question bank in the console (placeholder)."""
from quiz.console.views import bp


@bp.route("/bank/")
def bank():
    return "题库管理即将上线"
