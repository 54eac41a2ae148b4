"""Organisers log in and out."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from quiz.auth.forms import LoginForm
from quiz.extensions import db, limiter
from quiz.models import Organiser

bp = Blueprint("auth", __name__, url_prefix="/auth")


def safe_next(target: str | None) -> str:
    """Only follow a `next` link that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    """Show the login form and check the password."""
    if current_user.is_authenticated:
        return redirect(url_for("console.index"))
    form = LoginForm()
    if form.validate_on_submit():
        organiser = db.session.scalar(db.select(Organiser).filter_by(username=form.username.data))
        if organiser is not None and organiser.is_enabled \
                and organiser.check_password(form.password.data):
            login_user(organiser)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append("用户名或密码不正确")
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the organiser's session."""
    logout_user()
    flash("已退出登录。")
    return redirect(url_for("auth.login"))
