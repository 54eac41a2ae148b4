"""The hazard report queue: filters, a case's handling, the sealed identity, rewards, exposure."""
import secrets
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from quiz.console.report_forms import (ActionForm, AssignForm, ExtendForm, IdentityForm, PublishForm,
                                       QueueFilterForm, RewardForm, StaffReportForm, TransitionForm)
from quiz.console.views import bp, visible_ids, xlsx_response
from quiz.exports import workbook_bytes
from quiz.extensions import db
from quiz.forms import choices
from quiz.models import Unit
from quiz.models.report import (HazardCategory, HazardGrade, HazardReport, IdentityAccessLog,
                                PhotoKind, ReportChannel, ReportPhoto, ReportStatus)
from quiz.permissions import require_unit, subtree_ids, tree_order
from quiz.photos import PhotoRefused, clean_photo, remove_photos, store_photo
from quiz.play.views import unit_choices
from quiz.report.views import send_photo
from quiz.report_workflow import (NewReport, cases_visible_to, report_counts, WorkflowRefused, allowed_targets, extend, may_handle,
                                  publish, read_identity, reassign, reward_step, submit_report, transition,
                                  unpublish)
from quiz.timeutil import local_day, utcnow

PER_PAGE = 30


def visible_reports():
    """The cases this organiser sees: all for an administrator, else those of their subtree."""
    return cases_visible_to(visible_ids())


def report_or_404(report_id: int) -> HazardReport:
    report = db.session.get(HazardReport, report_id)
    if report is None or not may_handle(current_user, report, visible_ids()):
        abort(404, description="没有找到这个案件。")  # another subtree's case does not exist for you
    return report


def unit_select_choices() -> list[tuple[str, str]]:
    units = db.session.scalars(db.select(Unit).where(Unit.is_active)).all()
    visible = visible_ids()
    return choices([("", "请选择")] + [(str(unit.id), unit.path_name) for unit in tree_order(units)
                                      if visible is None or unit.id in visible])


def filtered(form: QueueFilterForm):
    query = visible_reports()
    data = form.data
    if data["status"] in {s.value for s in ReportStatus}:
        query = query.where(HazardReport.status == ReportStatus(data["status"]))
    elif data["status"] == "open":
        query = query.where(HazardReport.status.in_([s for s in ReportStatus if s.is_open]))
    if data["category"] in {c.value for c in HazardCategory}:
        query = query.where(HazardReport.category == HazardCategory(data["category"]))
    if data["grade"] in {g.value for g in HazardGrade}:
        query = query.where(HazardReport.grade == HazardGrade(data["grade"]))
    if data["unit"] and data["unit"].isdigit():
        unit = db.session.get(Unit, int(data["unit"]))
        if unit is not None:
            ids = subtree_ids(require_unit(unit))
            query = query.where(HazardReport.unit_id.in_(ids) | HazardReport.assigned_unit_id.in_(ids))
    if data["overdue"]:
        query = query.where(HazardReport.status.in_([s for s in ReportStatus if s.is_open]),
                            HazardReport.due_on < local_day(utcnow()))
    return query


def filter_form() -> QueueFilterForm:
    form = QueueFilterForm(request.args)
    form.status.choices = choices([("", "全部状态"), ("open", "未办结")] + [(s.value, s.label) for s in ReportStatus])
    form.unit.choices = choices([("", "全部单位")]) + unit_select_choices()[1:]
    return form


@bp.route("/reports/")
@login_required
def reports():
    form = filter_form()
    page = db.paginate(filtered(form).order_by(HazardReport.submitted_at.desc()),
                       per_page=PER_PAGE, error_out=False)
    query_string = urlencode({key: value for key, value in request.args.items() if key != "page"})
    return render_template("console/reports.html", form=form, page=page, query_string=query_string,
                           counts=report_counts(visible_ids()))


@bp.route("/reports/export.xlsx")
@login_required
def export_reports():
    """The queue as a sheet, filters applied; never anything about the reporter."""
    reports_ = db.session.scalars(filtered(filter_form()).order_by(HazardReport.id)).all()
    header = ["编号", "提交日期", "来源", "类别", "所在单位", "具体位置", "隐患情况", "状态", "等级",
              "核查单位", "办理期限", "是否超期", "转办部门"]
    rows = [[report.id, f"{local_day(report.submitted_at):%Y-%m-%d}", report.channel.label,
             report.category.label, report.unit.path_name if report.unit else "", report.place,
             report.description, report.status.label, report.grade.label if report.grade else "",
             report.assigned_unit.path_name if report.assigned_unit else "",
             f"{report.due_on:%Y-%m-%d}", "是" if report.is_overdue else "", report.transferred_to or ""]
            for report in reports_]
    return xlsx_response(workbook_bytes([("隐患举报", header, rows)]), "隐患举报.xlsx")


def _detail(report: HazardReport, status: int = 200, identity=None, **forms):
    transition_form = forms.get("transition_form") or TransitionForm()
    transition_form.to.choices = choices([("", "请选择")] + [(s.value, s.label)
                                                          for s in allowed_targets(report, current_user)])
    transition_form.assigned_unit.choices = unit_select_choices()
    assign_form = forms.get("assign_form") or AssignForm()
    assign_form.assigned_unit.choices = unit_select_choices()
    publish_form = forms.get("publish_form") or PublishForm(
        public_description=report.public_description or report.description)
    access_log = db.session.scalars(db.select(IdentityAccessLog).filter_by(report_id=report.id)
                                    .order_by(IdentityAccessLog.id.desc())).all() \
        if current_user.may_read_reporters else []
    return render_template(
        "console/report.html", report=report, identity=identity, access_log=access_log,
        transition_form=transition_form, extend_form=forms.get("extend_form") or ExtendForm(),
        publish_form=publish_form, reward_form=forms.get("reward_form") or RewardForm(),
        identity_form=forms.get("identity_form") or IdentityForm(), assign_form=assign_form,
        action_form=ActionForm(), message=forms.get("message")), status


@bp.route("/reports/<int:report_id>")
@login_required
def report_detail(report_id: int):
    return _detail(report_or_404(report_id))


def _after(report: HazardReport, message: str):
    db.session.commit()
    flash(message)
    return redirect(url_for("console.report_detail", report_id=report.id), 303)


def _refused(report: HazardReport, error: WorkflowRefused, **forms):
    db.session.rollback()
    return _detail(db.session.get(HazardReport, report.id), 409, message=str(error), **forms)


@bp.route("/reports/<int:report_id>/transition", methods=["POST"])
@login_required
def report_transition(report_id: int):
    report = report_or_404(report_id)
    form = TransitionForm()
    form.to.choices = choices((s.value, s.label) for s in ReportStatus)
    form.assigned_unit.choices = unit_select_choices()
    if not form.validate():
        return _detail(report, 422, transition_form=form, message="请检查标红的内容。")
    unit = None
    if form.assigned_unit.data:
        unit = db.session.get(Unit, int(form.assigned_unit.data)) if form.assigned_unit.data.isdigit() else None
        if unit is None or not unit.is_active:
            return _detail(report, 422, transition_form=form, message="请从列表中选择核查单位。")
        require_unit(unit)
    duplicate = None
    if form.duplicate_of.data:
        duplicate = db.session.get(HazardReport, form.duplicate_of.data)
        if duplicate is None or not may_handle(current_user, duplicate, visible_ids()):
            return _detail(report, 422, transition_form=form, message="没有找到与之重复的案件。")
    tokens = []
    try:
        for upload in request.files.getlist("after_photos")[:3]:
            if upload.filename:
                clean = clean_photo(upload.read())
                photo = ReportPhoto(token=store_photo(clean), uploader_key=f"organiser:{current_user.id}",
                                    kind=PhotoKind.AFTER, width=clean.width, height=clean.height,
                                    size_bytes=len(clean.image))
                db.session.add(photo)
                tokens.append(photo.token)
        db.session.flush()
        transition(report, ReportStatus(form.to.data), current_user, reason=form.reason.data or "",
                   public_note=form.public_note.data or "", private_note=form.private_note.data or "",
                   assigned_unit=unit, grade=HazardGrade(form.grade.data) if form.grade.data else None,
                   due_on=form.due_on.data, transferred_to=form.transferred_to.data or "",
                   duplicate_of=duplicate, after_photo_tokens=tokens)
    except (PhotoRefused, WorkflowRefused) as error:
        remove_photos(tokens)  # the rows roll back; their files must not stay behind
        if isinstance(error, PhotoRefused):
            error = WorkflowRefused(f"整改照片：{error}")
        return _refused(report, error, transition_form=form)
    return _after(report, f"已办理为“{report.status.label}”。")


@bp.route("/reports/<int:report_id>/assign", methods=["POST"])
@login_required
def report_assign(report_id: int):
    report = report_or_404(report_id)
    form = AssignForm()
    form.assigned_unit.choices = unit_select_choices()
    if not form.validate() or not form.assigned_unit.data.isdigit():
        return _detail(report, 422, assign_form=form, message="请选择核查单位。")
    unit = db.session.get(Unit, int(form.assigned_unit.data))
    if unit is None or not unit.is_active:
        return _detail(report, 422, assign_form=form, message="请选择核查单位。")
    try:
        reassign(report, current_user, unit)
    except WorkflowRefused as error:
        return _refused(report, error, assign_form=form)
    return _after(report, "已改派。")


@bp.route("/reports/<int:report_id>/extend", methods=["POST"])
@login_required
def report_extend(report_id: int):
    report = report_or_404(report_id)
    form = ExtendForm()
    if not form.validate():
        return _detail(report, 422, extend_form=form, message="请检查延期的天数和理由。")
    try:
        extend(report, current_user, form.days.data, form.reason.data)
    except WorkflowRefused as error:
        return _refused(report, error, extend_form=form)
    return _after(report, "已延期。")


@bp.route("/reports/<int:report_id>/publish", methods=["POST"])
@login_required
def report_publish(report_id: int):
    report = report_or_404(report_id)
    form = PublishForm()
    if not form.validate():
        return _detail(report, 422, publish_form=form, message="请填写公开描述。")
    try:
        publish(report, current_user, form.public_description.data)
    except WorkflowRefused as error:
        return _refused(report, error, publish_form=form)
    return _after(report, "已在曝光台公开。")


@bp.route("/reports/<int:report_id>/unpublish", methods=["POST"])
@login_required
def report_unpublish(report_id: int):
    report = report_or_404(report_id)
    if not ActionForm().validate():
        abort(400)
    try:
        unpublish(report, current_user)
    except WorkflowRefused as error:
        return _refused(report, error)
    return _after(report, "已撤下曝光。")


@bp.route("/reports/<int:report_id>/reward", methods=["POST"])
@login_required
def report_reward(report_id: int):
    report = report_or_404(report_id)
    form = RewardForm()
    if not form.validate():
        return _detail(report, 422, reward_form=form, message="请检查奖励信息。")
    try:
        reward_step(report, current_user, form.action.data, form.fine_yuan.data, form.note.data or "")
    except WorkflowRefused as error:
        return _refused(report, error, reward_form=form)
    return _after(report, f"奖励：{report.reward_status.label}。")


@bp.route("/reports/<int:report_id>/identity", methods=["POST"])
@login_required
def report_identity(report_id: int):
    """The sealed name and phone, shown once in this response; the read is logged first."""
    report = report_or_404(report_id)
    form = IdentityForm()
    if not current_user.may_read_reporters:
        abort(403, description="只有负责举报办理的区级管理员可以查看举报人信息。")
    if not form.validate():
        return _detail(report, 422, identity_form=form, message="请写明查看理由。")
    identity = read_identity(report, current_user, form.reason.data)
    return _detail(report, identity=identity or False)


@bp.route("/reports/photo/<token>.jpg")
@login_required
def report_photo(token: str):
    photo = db.session.scalar(db.select(ReportPhoto).filter_by(token=token))
    if photo is None or photo.report is None or not may_handle(current_user, photo.report, visible_ids()):
        abort(404, description="没有找到这张照片。")
    return send_photo(photo, thumbnail=request.args.get("size") == "thumb", public=False)


@bp.route("/reports/new", methods=["GET", "POST"])
@login_required
def report_new():
    """Enter a report received by the hotline or on paper, on the resident's behalf."""
    form = StaffReportForm() if request.method == "POST" else \
        StaffReportForm(submission_key=secrets.token_urlsafe(24), anonymous=False)
    form.unit.choices = unit_choices()
    if form.validate_on_submit():
        unit = db.session.scalar(db.select(Unit).filter_by(code=form.unit.data)) if form.unit.data else None
        if unit is not None:
            require_unit(unit)
        anonymous = form.anonymous.data
        report, _created = submit_report(NewReport(
            category=HazardCategory(form.category.data), place=form.place.data,
            description=form.description.data, unit=unit,
            name="" if anonymous else form.name.data or "", phone="" if anonymous else form.phone.data or "",
            allows_publication=form.allows_publication.data, channel=ReportChannel(form.channel.data),
            entered_by=current_user), form.submission_key.data, [], f"organiser:{current_user.id}")
        flash(f"已登记，查询码 {report.tracking_code}，请告知举报人。")
        return redirect(url_for("console.report_detail", report_id=report.id), 303)
    return render_template("console/report_new.html", form=form), 422 if form.errors else 200
