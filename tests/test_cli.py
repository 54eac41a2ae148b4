"""Command-line tools: bank check/load and the demo seed."""
from quiz.extensions import db
from quiz.models import Campaign, Organiser, Question, Unit


def test_bank_check_passes_on_the_shipped_bank(runner):
    result = runner.invoke(args=["bank", "check"])
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output


def test_bank_check_fails_with_the_reason(runner, app, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "category: 燃气安全\nquestions:\n  - id: RQ-001\n    type: judge\n    stem: 可以用明火检漏。\n"
        "    answer: maybe\n    explanation: 不可以。\n    source: 测试\n", encoding="utf-8")
    app.config["QUESTION_BANK_DIR"] = str(tmp_path)
    result = runner.invoke(args=["bank", "check"])
    assert result.exit_code != 0
    assert "bad.yaml: RQ-001: 判断题的 answer 应为 true 或 false" in result.output


def test_bank_load_is_idempotent(runner, app):
    first = runner.invoke(args=["bank", "load"])
    assert first.exit_code == 0 and " 0 updated" in first.output
    second = runner.invoke(args=["bank", "load"])
    assert " 0 added, 0 updated" in second.output
    with app.app_context():
        count = db.session.scalar(db.select(db.func.count(Question.id)))
        keys = db.session.scalar(db.select(db.func.count(db.distinct(Question.key))))
        assert count == keys >= 150


def test_demo_seed_keeps_data_and_honours_admin_password(runner, app, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    first = runner.invoke(args=["demo", "seed"])
    assert "用户名 / username: admin" in first.output
    printed = first.output.split("密码 / password:")[1].split()[0]
    with app.app_context():
        admin = db.session.scalar(db.select(Organiser).filter_by(username="admin"))
        assert admin.is_admin and admin.check_password(printed)
    second = runner.invoke(args=["demo", "seed"])
    assert "0 units and 0 campaigns created" in second.output and "unchanged" in second.output
    monkeypatch.setenv("ADMIN_PASSWORD", "换个密码-2024")
    runner.invoke(args=["demo", "seed"])
    with app.app_context():
        admin = db.session.scalar(db.select(Organiser).filter_by(username="admin"))
        assert admin.check_password("换个密码-2024")
        assert db.session.scalar(db.select(db.func.count(Unit.id))) == 18
        kinds = [u.kind.value for u in db.session.scalars(db.select(Unit))]
        assert (kinds.count("street"), kinds.count("community"), kinds.count("department"),
                kinds.count("enterprise")) == (3, 6, 4, 4)
        campaigns = db.session.scalars(db.select(Campaign).order_by(Campaign.year)).all()
        assert [(c.year, c.is_active) for c in campaigns] == [(2020, False), (2024, True)]
        assert campaigns[0].theme == "消除事故隐患，筑牢安全防线"
        assert campaigns[1].theme == "人人讲安全、个个会应急——畅通生命通道"
