"""Command-line tools: flask bank …, flask demo seed."""
import os

import click
from flask import Blueprint, current_app

from quiz.bank_loader import MIN_PER_CATEGORY, BankError, check_bank, load_bank
from quiz.demo import ensure_admin, seed_demo
from quiz.extensions import db
from quiz.models import Organiser, OrganiserRole, Unit

bp = Blueprint("cli", __name__, cli_group=None)


@bp.cli.group()
def bank():
    """Question bank (题库) commands."""


@bank.command("check")
@click.option("--min-per-category", type=click.IntRange(min=0), default=MIN_PER_CATEGORY,
              show_default=True, help="Fewest questions a category may have.")
def check(min_per_category: int) -> None:
    """Validate every file in questions/ without touching the database.

    Schema, unique ids, answers among the options, duplicate and near-duplicate stems
    across files, and the number of questions per category (printed, then checked).
    """
    report = check_bank(current_app.config["QUESTION_BANK_DIR"], min_per_category)
    for category, count in sorted(report.counts.items(), key=lambda item: (-item[1], item[0])):
        marker = "" if count >= min_per_category else f"  ← 少于 {min_per_category} 道"
        click.echo(f"{category}: {count}{marker}")
    for title, keys in report.under_review.items():
        click.echo(f"依据待复核：{len(keys)} 道题引用《{title}》（见 questions/_documents.yaml）：{'、'.join(keys)}")
    if report.problems:  # each names the file, the id and the reason
        raise click.ClickException("题库检查未通过：\n" + "\n".join(report.problems))
    click.echo(f"OK: {len(report.records)} questions in {len(report.counts)} categories")


@bank.command("load")
@click.option("--dry-run", is_flag=True, help="Validate the files and write nothing.")
def load(dry_run: bool) -> None:
    """Validate questions/ and upsert every question into the database by id."""
    try:
        summary = load_bank(current_app.config["QUESTION_BANK_DIR"], dry_run=dry_run)
    except BankError as error:
        raise click.ClickException(f"题库检查未通过：\n{error}") from error
    click.echo(f"bank: {summary.added} added, {summary.updated} updated, "
               f"{summary.unchanged} unchanged, {summary.retired} retired")


@bp.cli.group()
def demo():
    """Demo data commands."""


@demo.command("seed")
@click.option("--admin", "username", default="admin", show_default=True)
def seed(username: str) -> None:
    """Create the demo district, the 2020 and 2024 campaigns and the administrator.

    Existing data is kept; ADMIN_PASSWORD, when set, resets the administrator's password.
    """
    created = seed_demo()
    admin, password = ensure_admin(username, os.environ.get("ADMIN_PASSWORD") or None)
    db.session.commit()
    click.echo(f"demo: {created['units']} units and {created['campaigns']} campaigns created; "
               f"{created['themes']} official themes and {created['slogans']} official slogans loaded")
    click.echo("")
    click.echo("  组织者后台 / organiser console: /auth/login")
    click.echo(f"  用户名 / username: {admin.username}")
    if password:
        click.echo(f"  密码 / password:   {password}")
    else:
        click.echo("  密码 / password:   (unchanged; run with ADMIN_PASSWORD=... to reset it)")
    click.echo("")


@bp.cli.group()
def user():
    """Organiser account commands."""


@user.command("create")
@click.argument("username")
@click.option("--name", "display_name", default=None, help="Display name (default: the username).")
@click.option("--unit", "unit_code", default=None, help="Unit code for a unit organiser.")
@click.option("--admin", "is_admin", is_flag=True, help="A district administrator.")
@click.password_option(help="Prompted for when not given; or set it with --password.")
def create_user(username: str, display_name: str | None, unit_code: str | None,
                is_admin: bool, password: str) -> None:
    """Create an organiser account: --admin, or --unit CODE for a unit organiser."""
    if db.session.scalar(db.select(Organiser.id).filter_by(username=username)):
        raise click.ClickException(f"username {username!r} is taken")
    unit = None
    if not is_admin:
        if not unit_code:
            raise click.ClickException("give --unit CODE for a unit organiser, or --admin")
        unit = db.session.scalar(db.select(Unit).filter_by(code=unit_code))
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
    if len(password) < 10:
        raise click.ClickException("the password needs at least 10 characters")
    account = Organiser(username=username, display_name=display_name or username,
                        role=OrganiserRole.ADMIN if is_admin else OrganiserRole.UNIT,
                        unit=unit, password_hash="")
    account.set_password(password)
    db.session.add(account)
    db.session.commit()
    click.echo(f"created {account.role.value} {username}" + (f" for {unit.name}" if unit else ""))
