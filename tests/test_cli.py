"""Command-line tools: bank check/load and the demo seed."""
import pytest

from quiz.extensions import db
from quiz.models import Campaign, Organiser, Question, Unit
from tests.test_bank_loader import GOOD_SINGLE, judge, write_bank


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


def test_bank_check_prints_the_count_of_every_category(runner):
    result = runner.invoke(args=["bank", "check"])
    assert "消防安全: " in result.output and "校园与家庭安全: " in result.output
    assert "in 19 categories" in result.output


ANOTHER_FIRE = GOOD_SINGLE.replace("XF-001", "XF-002").replace("火警电话", "急救电话") \
    .replace("answer: B", "answer: C")
BROKEN_BANKS = {
    "bad schema": (GOOD_SINGLE.replace("type: single", "type: essay"),
                   "fire.yaml: XF-001: type 应为 single、multiple 或 judge"),
    "duplicate id": (GOOD_SINGLE + GOOD_SINGLE.replace("火警电话", "报警电话"),
                     "fire.yaml: XF-001: id 与 fire.yaml 中的题目重复"),
    "answer not among the options": (GOOD_SINGLE.replace("answer: B", "answer: F"),
                                     "fire.yaml: XF-001: 答案 ['F'] 不在选项"),
    "duplicate stem": (GOOD_SINGLE + GOOD_SINGLE.replace("XF-001", "XF-002").replace("（　）。", "？"),
                       "fire.yaml: XF-002: 题干与 XF-001 重复"),
    "near-duplicate stem": (GOOD_SINGLE + GOOD_SINGLE.replace("XF-001", "XF-002")
                            .replace("发现火灾后应当", "发现火灾后，要"),
                            "fire.yaml: XF-002: 题干与 fire.yaml 中的 XF-001 近似重复"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_BANKS))
def test_bank_check_fails_on_each_kind_of_broken_file(runner, app, tmp_path, case):
    body, message = BROKEN_BANKS[case]
    app.config["QUESTION_BANK_DIR"] = str(write_bank(tmp_path / "bank", body))
    result = runner.invoke(args=["bank", "check", "--min-per-category", "1"])
    assert result.exit_code == 1
    assert "题库检查未通过" in result.output and message in result.output


def test_bank_check_fails_when_a_category_is_too_small(runner, app, tmp_path):
    bank = write_bank(tmp_path / "bank", GOOD_SINGLE + ANOTHER_FIRE)
    write_bank(bank, judge("RQ-001", "闻到燃气味时可以打开排气扇。", answer=False), name="gas.yaml",
               category="燃气安全")
    app.config["QUESTION_BANK_DIR"] = str(bank)
    passing = runner.invoke(args=["bank", "check", "--min-per-category", "1"])
    assert passing.exit_code == 0, passing.output
    result = runner.invoke(args=["bank", "check", "--min-per-category", "2"])
    assert result.exit_code == 1
    assert "燃气安全: 1  ← 少于 2 道" in result.output and "消防安全: 2\n" in result.output
    assert "gas.yaml: 分类“燃气安全”只有 1 道题，至少需要 2 道" in result.output
    default = runner.invoke(args=["bank", "check"])  # the real minimum is 25
    assert "分类“消防安全”只有 2 道题，至少需要 25 道" in default.output


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


def test_bank_check_lists_the_questions_whose_basis_is_under_review(runner, app, tmp_path):
    from tests.test_bank_loader import bank_with_registry
    app.config["QUESTION_BANK_DIR"] = str(bank_with_registry(tmp_path))
    result = runner.invoke(args=["bank", "check", "--min-per-category", "1"])
    assert result.exit_code == 0, result.output
    assert "依据待复核：1 道题引用《中华人民共和国消防法》（见 questions/_documents.yaml）：XF-001" in result.output
