"""Console: the question bank: browse, enable or disable, edit organisers' own questions,
import and export sheets, and item statistics per campaign. District administrators only."""
import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from quiz.bank_io import (
    IMPORT_ORIGIN,
    OPTION_COLUMNS,
    SHEET_COLUMNS,
    apply_import,
    check_import,
    check_row,
    export_bytes,
    row_values,
    save_new_version,
    stem_clash,
    template_bytes,
)
from quiz.bank_loader import OPTION_LETTERS
from quiz.console.forms import ImportForm, choices
from quiz.console.units import pending_upload
from quiz.console.views import bp, xlsx_response
from quiz.exports import SheetError, read_rows
from quiz.extensions import db
from quiz.forms import BaseForm, strip_text
from quiz.item_stats import MIN_ANSWERS_FOR_FLAGS, item_statistics
from quiz.models import Campaign, Question, QuestionType, QuestionVersion
from quiz.permissions import admin_required
from quiz.source_status import (
    DocumentStatus,
    SourceDocument,
    app_registry,
    cited_documents,
    titles_with_status,
)

PER_PAGE = 30
MAX_ROW_ID = 2**63 - 1  # larger numbers overflow the database's integer: no such row
ORIGIN_LABELS = {"bank": "题库文件", IMPORT_ORIGIN: "导入"}
STATUS_LABELS = {"enabled": "启用", "disabled": "已停用", "retired": "已移出题库文件"}
DIFFICULTY_LABELS = {1: "易", 2: "中", 3: "难"}
UPLOAD_SUFFIX = ".bank-upload"  # beside the unit imports' files, never confused with them


class BankFilterForm(BaseForm):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    category = SelectField("分类", default="")
    qtype = SelectField("题型", default="", choices=choices(
        [("", "全部题型"), *((t.value, t.label) for t in QuestionType)]))
    origin = SelectField("来源", default="", choices=choices([("", "全部来源"), *ORIGIN_LABELS.items()]))
    status = SelectField("状态", default="", choices=choices([("", "在用（启用和停用）"), *STATUS_LABELS.items()]))
    basis = SelectField("依据", default="", choices=choices(
        [("", "全部依据"), ("review", "依据待复核")]))
    q = StringField("搜索", filters=[strip_text],
                    validators=[Optional(), Length(max=50, message="搜索词不能超过 50 个字")])

    def active_args(self) -> dict[str, str]:
        """The filters in use, for links that keep them (pages, export)."""
        return {name: field.data for name, field in self._fields.items() if field.data}


class ToggleForm(BaseForm):
    back = HiddenField()


def option_field(letter: str):
    return StringField(f"选项{letter}", filters=[strip_text], validators=[
        Length(max=200, message="选项不能超过 200 个字")])


class QuestionEditForm(BaseForm):
    """An organiser's own question; checked with the import's rules (bank_io.check_row)."""

    category = StringField("分类", filters=[strip_text], validators=[
        DataRequired("请填写分类"), Length(max=32, message="分类不能超过 32 个字")])
    difficulty = SelectField("难度", choices=choices(
        (str(level), f"{level}（{label}）") for level, label in DIFFICULTY_LABELS.items()))
    stem = TextAreaField("题干", filters=[strip_text], validators=[
        DataRequired("请填写题干")])
    option_a, option_b, option_c, option_d, option_e, option_f = (
        option_field(letter) for letter in OPTION_LETTERS)
    answer = StringField("答案", filters=[strip_text], validators=[
        DataRequired("请填写答案")])
    explanation = TextAreaField("解析", filters=[strip_text], validators=[
        DataRequired("请填写解析")])
    source = StringField("出处", filters=[strip_text], validators=[
        DataRequired("请填写出处"), Length(max=255, message="出处不能超过 255 个字")])

    FIELD_BY_COLUMN = {"题干": "stem", "答案": "answer", "解析": "explanation", "分类": "category",
                       "难度": "difficulty", "出处": "source",
                       **{column: f"option_{column[-1].lower()}" for column in OPTION_COLUMNS}}

    def __init__(self, qtype: QuestionType, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.qtype = qtype
        self.record = None

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        values = {column: str(self[name].data or "") for column, name in self.FIELD_BY_COLUMN.items()}
        self.record, errors = check_row({**values, "题型": self.qtype.label})
        for column, reason in errors:
            self[self.FIELD_BY_COLUMN.get(column, "stem")].errors.append(reason)
        return not errors

    @classmethod
    def data_for(cls, question: Question) -> dict[str, str]:
        values = row_values(question)
        return {name: str(values[column]) for column, name in cls.FIELD_BY_COLUMN.items()}


def row_number_or_404(value: int | None, upper: int = MAX_ROW_ID) -> int:
    """An id or page number from the URL, or 404 when no row could have it."""
    if value is None or not 1 <= value <= upper:
        abort(404)
    return value


def has_errors(form: BaseForm) -> bool:
    return any(field.errors for field in form)


def documents_under_review(questions, registry: dict[str, SourceDocument]
                           ) -> dict[int, list[SourceDocument]]:
    """For each question whose current source cites a document under review, those documents."""
    flagged = {}
    for question in questions:
        documents = cited_documents(question.current_version.source, registry, DocumentStatus.REVIEW)
        if documents:
            flagged[question.id] = documents
    return flagged


def filtered_query(form: BankFilterForm, registry: dict[str, SourceDocument] | None = None):
    """Questions matching the filters, with their current wording, in id order."""
    query = (db.select(Question).join(Question.current_version)
             .options(db.contains_eager(Question.current_version)).order_by(Question.key))
    if form.category.data:
        query = query.where(Question.category == form.category.data)
    if form.qtype.data:
        query = query.where(Question.qtype == QuestionType(form.qtype.data))
    if form.origin.data:
        query = query.where(Question.origin == form.origin.data)
    status = form.status.data
    query = query.where(Question.is_retired.is_(status == "retired"))
    if status in ("enabled", "disabled"):
        query = query.where(Question.is_enabled.is_(status == "enabled"))
    if form.basis.data == "review":
        titles = titles_with_status(registry or {}, DocumentStatus.REVIEW)
        query = query.where(db.or_(db.false(), *(
            QuestionVersion.source.contains(f"《{title}》", autoescape=True) for title in titles)))
    if form.q.data:
        query = query.where(db.or_(QuestionVersion.stem.contains(form.q.data, autoescape=True),
                                   Question.key == form.q.data.upper()))
    return query


def filter_form() -> BankFilterForm:
    form = BankFilterForm(request.args, meta={"csrf": False})
    categories = db.session.scalars(db.select(Question.category).distinct().order_by(Question.category))
    form.category.choices = choices([("", "全部分类"), *((name, name) for name in categories)])
    return form


@bp.route("/bank/")
@admin_required
def bank():
    """The bank, filtered and paginated."""
    form = filter_form()
    if not form.validate():
        return render_template("console/bank.html", form=form, page=None,
                               toggle_form=ToggleForm(), labels=ORIGIN_LABELS), 400
    number = row_number_or_404(request.args.get("page", 1, type=int), MAX_ROW_ID // PER_PAGE)
    registry = app_registry()
    page = db.paginate(filtered_query(form, registry), page=number, per_page=PER_PAGE)
    return render_template("console/bank.html", form=form, page=page, toggle_form=ToggleForm(),
                           labels=ORIGIN_LABELS, args=form.active_args(),
                           under_review=documents_under_review(page.items, registry))


@bp.route("/bank/export.xlsx")
@admin_required
def bank_export():
    """The filtered bank as a sheet in the import template's columns."""
    form = filter_form()
    if not form.validate():
        abort(400, description="筛选条件不正确，请返回题库页面重新选择。")
    questions = db.session.scalars(filtered_query(form, app_registry())).all()
    return xlsx_response(export_bytes(questions), "题库导出.xlsx")


@bp.route("/bank/template.xlsx")
@admin_required
def bank_template():
    """The empty import template with three example rows and the instructions."""
    return xlsx_response(template_bytes(), "题库导入模板.xlsx")


@bp.route("/bank/<int:question_id>", methods=["GET", "POST"])
@admin_required
def bank_question(question_id: int):
    """One question: its wording and versions; an organiser's own question can be edited."""
    question = db.get_or_404(Question, row_number_or_404(question_id))
    is_editable = question.origin == IMPORT_ORIGIN and question.current_version is not None
    if request.method == "POST" and not is_editable:
        abort(403, description="题库文件中的题目只能在 questions/ 目录中修改，这里只能启用或停用。")
    form = None
    if is_editable:
        form = QuestionEditForm(question.qtype, data=QuestionEditForm.data_for(question)
                                if request.method == "GET" else None)
        if form.validate_on_submit():
            clash = stem_clash(form.record, question.id)
            if clash:
                form.stem.errors.append(clash)
            elif form.record.content_hash == question.current_version.content_hash:
                flash("内容没有变化，未保存新版本。")
                return redirect(url_for("console.bank_question", question_id=question.id))
            else:
                version = save_new_version(question, form.record)
                try:
                    db.session.commit()
                except IntegrityError:  # someone saved the same question a moment ago
                    db.session.rollback()
                    abort(409, description="这道题刚被其他人修改过，请刷新后再改。")
                flash(f"已保存 {question.key} 第 {version.version} 版；已答的试卷仍按原来的版本显示和计分。")
                return redirect(url_for("console.bank_question", question_id=question.id))
    status = 400 if form is not None and has_errors(form) else 200
    under_review = documents_under_review([question], app_registry()).get(question.id, [])
    return render_template("console/bank_question.html", question=question, form=form,
                           toggle_form=ToggleForm(), labels=ORIGIN_LABELS, under_review=under_review,
                           difficulty_labels=DIFFICULTY_LABELS), status


@bp.route("/bank/<int:question_id>/toggle", methods=["POST"])
@admin_required
def bank_toggle(question_id: int):
    """Enable or disable a question (bank-file questions too): disabled ones are not drawn."""
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    question = db.get_or_404(Question, row_number_or_404(question_id))
    question.is_enabled = not question.is_enabled
    db.session.commit()
    flash(f"已{'启用' if question.is_enabled else '停用'}：{question.key}")
    back = form.back.data or ""
    if not back.startswith("/console/bank") or back.startswith("//"):
        back = url_for("console.bank")
    return redirect(back)


@bp.route("/bank/import", methods=["GET", "POST"])
@admin_required
def bank_import():
    """Upload a sheet, see every row's problems, then import all rows or only the good ones."""
    form = ImportForm()
    rows, token = None, None
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            rows = check_import(read_rows(form.file.data.filename, data))
        except SheetError as error:
            form.file.errors.append(str(error))
        else:
            token = secrets.token_urlsafe(12)
            upload_path(token).write_bytes(data)
            upload_path(token).with_suffix(".name").write_text(form.file.data.filename)
    status = 400 if has_errors(form) else 200
    return render_template("console/bank_import.html", form=form, rows=rows, token=token,
                           columns=SHEET_COLUMNS, confirm_form=BaseForm()), status


@bp.route("/bank/import/<token>", methods=["POST"])
@admin_required
def bank_import_confirm(token: str):
    """Import the previewed file: everything if it had no errors, the good rows if confirmed."""
    if not BaseForm().validate_on_submit() or not token.replace("-", "").replace("_", "").isalnum():
        abort(400)
    path = upload_path(token)
    if not path.exists():
        flash("预览已过期，请重新上传文件。")
        return redirect(url_for("console.bank_import"))
    try:
        rows = check_import(read_rows(path.with_suffix(".name").read_text(), path.read_bytes()))
    except SheetError as error:
        flash(str(error))
        return redirect(url_for("console.bank_import"))
    bad = [row for row in rows if row.errors]
    if bad and request.form.get("good_rows_only") != "1":
        flash(f"文件中有 {len(bad)} 行错误，请修改后重新上传，或选择只导入正确的行。")
        return redirect(url_for("console.bank_import"))
    summary = apply_import(rows)
    try:
        db.session.commit()
    except IntegrityError:  # another import took the same new numbers at the same moment
        db.session.rollback()
        flash("其他人正在同时导入题目，请再确认一次。")
        return redirect(url_for("console.bank_import"))
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)
    parts = [f"新增 {summary.added} 道", f"更新 {summary.updated} 道"]
    if summary.unchanged:
        parts.append(f"{summary.unchanged} 道已在题库中、未改动")
    if bad:
        parts.append(f"跳过 {len(bad)} 行有错误的行")
    flash("导入完成：" + "，".join(parts) + "。")
    return redirect(url_for("console.bank", origin=IMPORT_ORIGIN))


def upload_path(token: str):
    return pending_upload(token).with_suffix(UPLOAD_SUFFIX)


@bp.route("/bank/stats")
@admin_required
def bank_stats():
    """Item statistics of one campaign's submitted papers, questions needing review first."""
    campaigns = db.session.scalars(db.select(Campaign).order_by(Campaign.year.desc(),
                                                                Campaign.id.desc())).all()
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id is not None:
        campaign = db.get_or_404(Campaign, row_number_or_404(campaign_id))
    else:
        campaign = next((c for c in campaigns if c.is_active), campaigns[0] if campaigns else None)
    stats = item_statistics(campaign.id) if campaign is not None else []
    return render_template("console/bank_stats.html", campaigns=campaigns, campaign=campaign,
                           stats=stats, flagged=sum(1 for s in stats if s.flags),
                           min_answers=MIN_ANSWERS_FOR_FLAGS)
