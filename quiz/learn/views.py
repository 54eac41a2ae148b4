"""在线学习 pages (placeholder until the learning pages land)."""
from flask import Blueprint

bp = Blueprint("learn", __name__, url_prefix="/learn")


@bp.route("/")
def index():
    return "在线学习即将上线"
