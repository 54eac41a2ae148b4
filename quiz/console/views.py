"""The organisers' console: the dashboard and the numbers for the upward report."""
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from quiz.charts import daily_chart_svg, daily_series
from quiz.exports import XLSX_MIMETYPE, workbook_bytes
from quiz.extensions import db
from quiz.forms import BaseForm
from quiz.leaderboard import METRICS, default_metric, unit_rows
from quiz.models import Campaign, Question, Slogan, SloganStatus, UnitKind
from quiz.permissions import admin_required, subtree_ids, tree_order
from quiz.report_workflow import report_counts
from quiz.slogan_rules import SloganRefused, moderate
from quiz.slogans.forms import RejectForm
from quiz.timeutil import local_day, utcnow

bp = Blueprint("console", __name__, url_prefix="/console")


def active_campaign_or_none() -> Campaign | None:
    return db.session.scalar(db.select(Campaign).where(Campaign.is_active).limit(1))


def visible_ids() -> set[int] | None:
    """None for an administrator (everything), else the organiser's subtree."""
    return None if current_user.is_admin else subtree_ids(current_user.unit)


@bp.route("/")
@login_required
def index():
    """The campaign at a glance: totals, the daily chart, units not started, the unit table."""
    campaign = active_campaign_or_none()
    if campaign is None:
        return render_template("console/index.html", campaign=None)
    metric = request.args.get("metric") if request.args.get("metric") in METRICS \
        else default_metric(campaign)
    kind = next((k for k in UnitKind if k.value == request.args.get("kind")), None)
    rows = tree_rows(campaign, metric, kind)
    top = [row for row in rows if row.unit.parent_id is None or
           (current_user.unit is not None and row.unit.id == current_user.unit.id)]
    not_started = [row for row in rows if not row.has_started and row.unit.kind
                   not in (UnitKind.DISTRICT, UnitKind.STREET, UnitKind.DEPARTMENT)]
    question_count = db.session.scalar(db.select(db.func.count(Question.id)).where(
        Question.is_enabled, Question.is_retired.is_(False)))
    today = local_day(utcnow())
    return render_template(
        "console/index.html", campaign=campaign, rows=rows, metric=metric, kind=kind,
        metrics=METRICS, kinds=list(UnitKind), not_started=not_started,
        summary=top[0] if top else None, question_count=question_count,
        report_counts=report_counts(visible_ids()),
        chart=daily_chart_svg(daily_series(campaign, today), width=760, highlight=today))


def tree_rows(campaign: Campaign, metric: str, kind: UnitKind | None = None):
    """The organiser's units with rolled-up figures, ranked within the chosen kind or in tree order."""
    rows = unit_rows(campaign, kind, metric, within=visible_ids())
    if kind is None:
        order = {unit.id: index for index, unit in enumerate(tree_order([r.unit for r in rows]))}
        rows.sort(key=lambda row: order[row.unit.id])
    return rows


UNIT_TABLE_HEADER = ["排名", "单位", "编码", "类别", "上级单位", "人数", "参与人数", "参与率",
                     "答题人次", "平均最高分", "合格率", "满分率", "累计积分"]


@bp.route("/export/units.xlsx")
@login_required
def export_units():
    """Every unit the organiser may see, with rolled-up figures, as an Excel file."""
    campaign = active_campaign_or_none() or abort(404)
    metric = request.args.get("metric") if request.args.get("metric") in METRICS \
        else default_metric(campaign)
    rows = unit_rows(campaign, None, metric, within=visible_ids())
    table = [[row.rank, row.unit.name, row.unit.code, row.unit.kind.label,
              row.unit.parent.name if row.unit.parent else "", row.headcount, row.participants,
              round(row.participation_rate * 100, 2), row.attempts, round(row.average_best, 1),
              round(row.pass_rate * 100, 1), round(row.full_mark_rate * 100, 1), row.points_total]
             for row in rows]
    header = [*UNIT_TABLE_HEADER]
    header[7], header[10], header[11] = "参与率(%)", "合格率(%)", "满分率(%)"
    notes = {"单位成绩": [f"{campaign.title}（{campaign.theme}）",
                      f"排名依据：{METRICS[metric][0]}；上级单位的数字包含其下级单位。"
                      f"导出时间：{local_day(utcnow())}"]}
    data = workbook_bytes([("单位成绩", header, table)], notes)
    return xlsx_response(data, f"{campaign.year}单位答题统计.xlsx")


@bp.route("/export/progress.xlsx")
@login_required
def export_progress():
    """The notice's 活动进展情况统计表 rows, one sheet row per unit, ready to paste."""
    campaign = active_campaign_or_none() or abort(404)
    rows = tree_rows(campaign, default_metric(campaign))
    table = []
    for row in rows:
        table.append([
            row.unit.name, row.unit.kind.label,
            f"组织参与全国网上安全知识竞赛（{row.attempts}）人次",
            f"参与答题（{row.participants}）人，参与率（{row.participation_rate * 100:.1f}%）",
            f"合格（{row.passed_participants}）人，满分（{row.full_mark_participants}）人",
            row.attempts, row.participants,
        ])
    header = ["填报单位", "类别", "进展情况：网上安全知识竞赛", "进展情况：参与人数", "进展情况：成绩",
              "人次（数字）", "人数（数字）"]
    notes = {"活动进展情况": ["“安全生产月”活动进展情况统计表（安全知识网络答题部分）",
                          f"{campaign.title}；截至 {local_day(utcnow())}；上级单位的数字包含其下级单位。"]}
    data = workbook_bytes([("活动进展情况", header, table)], notes)
    return xlsx_response(data, f"{campaign.year}活动进展情况统计表.xlsx")


def xlsx_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


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
