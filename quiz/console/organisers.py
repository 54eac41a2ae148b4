"""Console: organiser accounts, managed by district administrators."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from quiz.console.forms import OrganiserForm, PasswordResetForm
from quiz.console.views import bp
from quiz.extensions import db
from quiz.forms import BaseForm
from quiz.models import Organiser, OrganiserRole, Unit
from quiz.permissions import admin_required, tree_order


@bp.route("/organisers")
@admin_required
def organisers():
    """Every account with its role and unit."""
    accounts = db.session.scalars(db.select(Organiser).order_by(Organiser.username)).all()
    return render_template("console/organisers.html", accounts=accounts, toggle_form=BaseForm())


@bp.route("/organisers/new", methods=["GET", "POST"])
@admin_required
def new_organiser():
    """Create an account for a unit organiser (or another administrator)."""
    form = OrganiserForm()
    units = tree_order(db.session.scalars(db.select(Unit).where(Unit.is_active)).all())
    form.unit.choices = [SelectChoice("", "请选择")] + [
        SelectChoice(str(unit.id), unit.path_name) for unit in units]
    if form.validate_on_submit():
        if db.session.scalar(db.select(Organiser.id).filter_by(username=form.username.data)):
            form.username.errors.append("这个用户名已被使用")
        unit = db.session.get(Unit, int(form.unit.data)) if form.unit.data.isdigit() else None
        if form.role.data == "unit" and unit is None:
            form.unit.errors.append("请选择所属单位")
        if not form.errors:
            account = Organiser(username=form.username.data, display_name=form.display_name.data,
                                role=OrganiserRole(form.role.data), unit=unit, password_hash="",
                                handles_reports=form.role.data == "admin" and form.handles_reports.data)
            account.set_password(form.password.data)
            db.session.add(account)
            db.session.commit()
            flash(f"已创建账号 {account.username}，请把初始密码当面或电话告诉对方。")
            return redirect(url_for("console.organisers"))
    return render_template("console/organiser_form.html", form=form), 400 if form.errors else 200


@bp.route("/organisers/<int:organiser_id>/password", methods=["GET", "POST"])
@admin_required
def reset_password(organiser_id: int):
    """Set a new password for an account."""
    account = db.get_or_404(Organiser, organiser_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        account.set_password(form.password.data)
        db.session.commit()
        flash(f"已重置 {account.username} 的密码。")
        return redirect(url_for("console.organisers"))
    return render_template("console/password_form.html", form=form, account=account), \
        400 if form.errors else 200


@bp.route("/organisers/<int:organiser_id>/toggle", methods=["POST"])
@admin_required
def toggle_organiser(organiser_id: int):
    """Disable an account (it can no longer log in) or enable it again."""
    if not BaseForm().validate_on_submit():
        abort(400)
    account = db.get_or_404(Organiser, organiser_id)
    if account.id == current_user.id:
        flash("不能停用自己的账号。")
    else:
        account.is_enabled = not account.is_enabled
        db.session.commit()
        flash(f"已{'启用' if account.is_enabled else '停用'} {account.username}。")
    return redirect(url_for("console.organisers"))
