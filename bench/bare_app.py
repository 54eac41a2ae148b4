"""The yardstick for bench/load.py: the least a Flask app under our gunicorn settings can do.

- GET /        renders a ~3 KB Jinja template (a loop, a few variables, autoescaping on).
- POST /insert inserts one row through Flask-SQLAlchemy and commits.

It reads DATABASE_URL like the real app (SQLite in WAL mode with the same pragmas, or
PostgreSQL through psycopg), so "ours / bare" compares like with like. Served with

    gunicorn -c python:quiz.gunicorn_conf --pythonpath bench bare_app:app
"""
import os
from datetime import datetime, timezone

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="/static/css/app.css">
</head>
<body>
  <header class="topbar"><a class="brand" href="/">{{ brand }}</a></header>
  <main class="page">
    <h1>{{ title }}</h1>
    <p class="lead">{{ lead }}</p>
    <form method="post" action="/insert">
    {% for item in items %}
    <fieldset class="question" id="q{{ loop.index }}">
      <legend>第 {{ loop.index }} 题 · {{ item.points }}分</legend>
      <p class="question-stem">{{ item.stem }}</p>
      {% for option in item.options %}
      <label class="option"><input type="radio" name="q{{ loop.index }}" value="{{ loop.index0 }}">
        <span class="option-letter">{{ 'ABCD'[loop.index0] }}</span>
        <span class="option-text">{{ option }}</span></label>
      {% endfor %}
    </fieldset>
    {% endfor %}
    <button type="submit">交卷</button>
    </form>
  </main>
  <footer class="footer"><a href="/board/">单位排行榜</a> · <a href="/slogans/">安全标语</a></footer>
</body>
</html>
"""

ITEMS = [{"points": 20,
          "stem": f"第{n}题：发现火灾隐患后，以下哪种做法是正确的？请选择最恰当的一项（　）",
          "options": [f"选项{letter}：立即报告并采取相应措施消除隐患{n}" for letter in "ABCD"]}
         for n in range(1, 6)]


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Note(db.Model):
    __tablename__ = "bare_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "sqlite:///bare.sqlite3")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()  # the same pragmas as quiz.extensions
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=10000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url(),
                      SQLALCHEMY_ENGINE_OPTIONS={} if database_url().startswith("sqlite")
                      else {"pool_recycle": 3600})  # as quiz.extensions
    app.jinja_loader = DictLoader({"page.html": PAGE})
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)
        try:  # bench/load.py creates the table first; workers starting at once may race
            db.create_all()
        except SQLAlchemyError:
            db.session.rollback()

    @app.get("/")
    def page():
        return render_template("page.html", title="2024年“安全生产月”安全知识网络答题",
                               brand="安全生产月", lead="人人讲安全、个个会应急——畅通生命通道",
                               items=ITEMS)

    @app.post("/insert")
    def insert():
        db.session.add(Note(body="bare insert", created_at=datetime.now(timezone.utc)))
        db.session.commit()
        return "ok\n", 201

    return app


app = create_app()

if __name__ == "__main__":  # `DATABASE_URL=... python bench/bare_app.py` creates the table
    with app.app_context():
        print(db.session.query(Note).count(), "rows in bare_notes")
