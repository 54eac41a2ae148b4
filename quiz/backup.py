"""`flask backup`: a consistent copy of the SQLite database while the app keeps serving."""
import sqlite3
from datetime import datetime
from pathlib import Path

import click
from flask import Blueprint, current_app
from sqlalchemy.engine import make_url

bp = Blueprint("backup", __name__, cli_group=None)


def sqlite_path() -> Path | None:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    # Flask-SQLAlchemy resolves a relative SQLite path against the instance folder.
    return path if path.is_absolute() else Path(current_app.instance_path) / path


def backup_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot even while writers continue (WAL)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader, sqlite3.connect(partial) as writer:
        reader.backup(writer, pages=1024)
    with sqlite3.connect(partial) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException("备份文件校验失败，请重试。")
    partial.replace(target)  # a backup file is either whole or absent


@bp.cli.command("backup")
@click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup(target: Path | None) -> None:
    """Copy the SQLite database to TARGET (default: instance/backups/<time>.sqlite3).

    PostgreSQL: use pg_dump instead (see README), e.g.
    pg_dump --format=custom --file=safetymonth.dump "$DATABASE_URL".
    """
    source = sqlite_path()
    if source is None:
        raise click.ClickException(
            "flask backup 只备份 SQLite 数据库；PostgreSQL 请用 pg_dump --format=custom（见 README）。")
    if not source.exists():
        raise click.ClickException(f"数据库文件不存在：{source}")
    if target is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = Path(current_app.instance_path) / "backups" / f"safetymonth-{stamp}.sqlite3"
    backup_sqlite(source, target)
    click.echo(f"backup: {source} -> {target} ({target.stat().st_size} bytes)")
