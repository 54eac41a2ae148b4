"""Console: the unit tree: create, edit, move, deactivate, import from a sheet."""
import secrets
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from quiz.console.forms import ImportForm, UnitForm
from quiz.console.views import bp, visible_ids
from quiz.exports import SheetError, read_rows
from quiz.extensions import db
from quiz.forms import BaseForm
from quiz.models import Unit, UnitKind
from quiz.permissions import require_unit, tree_order
from quiz.units import IMPORT_COLUMNS, apply_import, can_move_under, check_import, new_unit_code


def visible_units() -> list[Unit]:
    allowed = visible_ids()
    units = db.session.scalars(db.select(Unit)).all()
    return tree_order([unit for unit in units if allowed is None or unit.id in allowed])


def parent_choices(exclude: Unit | None = None) -> list[SelectChoice]:
    """Units the organiser may put a unit under (never the unit itself or below it)."""
    choices = [SelectChoice("", "（无，顶级单位）")] if current_user.is_admin else []
    for unit in visible_units():
        if exclude is not None and not can_move_under(exclude, unit):
            continue
        depth = 0 if unit.parent is None else 1 if unit.parent.parent is None else 2
        choices.append(SelectChoice(str(unit.id), "　" * depth + unit.name))
    return choices


@bp.route("/units")
@login_required
def units():
    """The organiser's part of the unit tree."""
    return render_template("console/units.html", units=visible_units(), toggle_form=BaseForm())


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def edit_unit(unit_id: int | None = None):
    """Create a unit, or edit one (its name, kind, place in the tree, headcount, liaison)."""
    unit = require_unit(db.get_or_404(Unit, unit_id)) if unit_id else None
    form = UnitForm(obj=unit)
    form.parent.choices = parent_choices(exclude=unit)
    if request.method == "GET":
        if unit is not None:
            form.kind.data = unit.kind.value
            form.parent.data = str(unit.parent_id or "")
        elif request.args.get("parent"):
            form.parent.data = request.args["parent"]
    if form.validate_on_submit():
        parent_id = form.parent.data or ""
        parent = db.session.get(Unit, int(parent_id)) if parent_id.isdigit() else None
        allowed = {choice.value for choice in form.parent.choices}
        if parent_id not in allowed or (parent is None and not current_user.is_admin):
            form.parent.errors.append("不能选择这个上级单位")
        elif unit is not None and unit.id == getattr(current_user.unit, "id", None) \
                and parent is not unit.parent:
            form.parent.errors.append("不能移动自己所属的单位")
        code = form.code.data or None
        clash = code and db.session.scalar(db.select(Unit.id).where(
            Unit.code == code, Unit.id != (unit.id if unit else 0)))
        if clash:
            form.code.errors.append(f"编码 {code} 已被其他单位使用")
        if not form.errors:
            if unit is None:
                unit = Unit(code="", name="", kind=UnitKind.OTHER)
                db.session.add(unit)
            for name in ("name", "headcount", "is_active", *UnitForm.LIAISON_FIELDS):
                value = getattr(form, name).data
                setattr(unit, name, value if value != "" else None)
            unit.kind = UnitKind(form.kind.data)
            unit.parent = parent
            if code:
                unit.code = code
            elif not unit.code:
                unit.code = new_unit_code(unit.kind, parent, set(db.session.scalars(db.select(Unit.code))))
            db.session.commit()
            flash(f"已保存：{unit.name}（编码 {unit.code}）")
            return redirect(url_for("console.units"))
    status = 400 if form.errors else 200
    return render_template("console/unit_form.html", form=form, unit=unit), status


@bp.route("/units/import", methods=["GET", "POST"])
@login_required
def import_units():
    """Upload a sheet, see every row's problems, then import all rows or only the good ones."""
    form = ImportForm()
    rows, token = None, None
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            rows = check_import(read_rows(form.file.data.filename, data), visible_ids())
        except SheetError as error:
            form.file.errors.append(str(error))
        else:
            token = secrets.token_urlsafe(12)
            pending_upload(token).write_bytes(data)
            pending_upload(token).with_suffix(".name").write_text(form.file.data.filename)
    status = 400 if form.errors else 200
    return render_template("console/unit_import.html", form=form, rows=rows, token=token,
                           columns=list(IMPORT_COLUMNS), confirm_form=BaseForm()), status


@bp.route("/units/import/<token>", methods=["POST"])
@login_required
def confirm_import(token: str):
    """Import the previewed file: everything if it had no errors, the good rows if confirmed."""
    if not BaseForm().validate_on_submit() or not token.replace("-", "").replace("_", "").isalnum():
        abort(400)
    path = pending_upload(token)
    if not path.exists():
        flash("预览已过期，请重新上传文件。")
        return redirect(url_for("console.import_units"))
    rows = check_import(read_rows(path.with_suffix(".name").read_text(), path.read_bytes()),
                        visible_ids())
    bad = [row for row in rows if row.errors]
    if bad and request.form.get("good_rows_only") != "1":
        flash(f"文件中有 {len(bad)} 行错误，请修改后重新上传，或选择只导入正确的行。")
        return redirect(url_for("console.import_units"))
    created = apply_import(rows)
    db.session.commit()
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)
    flash(f"已导入 {created} 个单位" + (f"，跳过 {len(bad)} 行有错误的行" if bad else "") + "。")
    return redirect(url_for("console.units"))


def pending_upload(token: str) -> Path:
    folder = Path(current_app.config["EXPORT_FOLDER"] or Path(current_app.instance_path) / "exports")
    folder = folder / "imports" / str(current_user.id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{token}.upload"
