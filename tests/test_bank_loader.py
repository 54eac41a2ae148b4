"""The bank files: the shipped bank is valid, and each kind of broken file is refused."""
import textwrap
from pathlib import Path

import pytest

from quiz.bank_loader import BankError, load_bank, read_bank
from quiz.config import PROJECT_ROOT
from quiz.extensions import db
from quiz.models import Question, QuestionType

GOOD_SINGLE = """
  - id: XF-001
    type: single
    difficulty: 1
    stem: 发现火灾后应当立即拨打的火警电话是（　）。
    options: {A: "110", B: "119", C: "120", D: "122"}
    answer: B
    explanation: 119是火警电话。
    source: 《中华人民共和国消防法》第四十四条
"""


def write_bank(directory: Path, body: str, name: str = "fire.yaml", category: str = "消防安全"):
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(f"category: {category}\nquestions:\n{textwrap.dedent(body)}",
                                  encoding="utf-8")
    return directory


def test_shipped_bank_is_valid_and_covers_the_first_topics():
    records = read_bank(PROJECT_ROOT / "questions")
    assert len(records) >= 150
    categories = {record.category for record in records}
    assert {"安全法规", "应急处置", "隐患排查", "消防安全", "用电安全", "燃气安全", "防灾避险"} <= categories
    assert {record.qtype for record in records} == set(QuestionType)
    for record in records:
        assert record.explanation and record.source, record.key


def test_a_good_file_reads(tmp_path):
    [record] = read_bank(write_bank(tmp_path / "bank", GOOD_SINGLE))
    assert record.key == "XF-001" and record.answer == ["B"]
    assert [option["key"] for option in record.options] == ["A", "B", "C", "D"]


BROKEN = {
    "answer not among the options": (GOOD_SINGLE.replace("answer: B", "answer: E"), "不在选项"),
    "single choice with two answers": (GOOD_SINGLE.replace("answer: B", "answer: [A, B]"),
                                       "单选题的 answer 应为一个字母"),
    "multiple choice with one answer": (GOOD_SINGLE.replace("type: single", "type: multiple")
                                        .replace("answer: B", "answer: [B]"), "至少要有 2 个"),
    "judge with options": (GOOD_SINGLE.replace("type: single", "type: judge")
                           .replace("answer: B", "answer: true"), "判断题不需要 options"),
    "judge with a letter": (GOOD_SINGLE.replace("type: single", "type: judge")
                            .replace('    options: {A: "110", B: "119", C: "120", D: "122"}\n', ""),
                            "true 或 false"),
    "missing explanation": (GOOD_SINGLE.replace("    explanation: 119是火警电话。\n", ""),
                            "缺少字段 explanation"),
    "empty source": (GOOD_SINGLE.replace("《中华人民共和国消防法》第四十四条", '""'), "source 不能为空"),
    "unknown field": (GOOD_SINGLE.replace("difficulty: 1", "difficulty: 1\n    anwser: B"),
                      "未知字段 anwser"),
    "bad difficulty": (GOOD_SINGLE.replace("difficulty: 1", "difficulty: 5"), "difficulty"),
    "bad type": (GOOD_SINGLE.replace("type: single", "type: essay"), "type 应为"),
    "bad id": (GOOD_SINGLE.replace("id: XF-001", "id: fire1"), "格式"),
    "skipped option letter": (GOOD_SINGLE.replace("D: \"122\"", "E: \"122\""), "不跳字母"),
    "duplicate option": (GOOD_SINGLE.replace('D: "122"', 'D: "110"'), "两个选项内容相同"),
    "duplicate id": (GOOD_SINGLE + GOOD_SINGLE.replace("火警电话", "报警电话"), "id 与"),
    "duplicate stem": (GOOD_SINGLE + GOOD_SINGLE.replace("XF-001", "XF-002")
                       .replace("（　）。", "（ ）"), "题干与"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_refused_with_file_id_and_reason(tmp_path, case):
    body, reason = BROKEN[case]
    with pytest.raises(BankError) as raised:
        read_bank(write_bank(tmp_path / "bank", body))
    message = str(raised.value)
    assert "fire.yaml" in message
    assert reason in message
    if case not in ("bad id", "bad type", "missing explanation"):
        assert "XF-00" in message


def test_unparsable_yaml_names_the_file(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "gas.yaml").write_text("category: 燃气安全\nquestions: [\n", encoding="utf-8")
    with pytest.raises(BankError, match="gas.yaml: 无法解析"):
        read_bank(bank)


def test_file_without_questions_list(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "gas.yaml").write_text("category: 燃气安全\n", encoding="utf-8")
    with pytest.raises(BankError, match="gas.yaml: 文件应包含"):
        read_bank(bank)


def test_loading_twice_updates_by_id_and_never_duplicates(ctx, tmp_path):
    bank = write_bank(tmp_path / "bank", GOOD_SINGLE + GOOD_SINGLE.replace("XF-001", "XF-002")
                      .replace("火警电话", "急救电话").replace("answer: B", "answer: C"))
    first = load_bank(bank)
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = load_bank(bank)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert db.session.scalar(db.select(db.func.count(Question.id))) == 2

    write_bank(bank, GOOD_SINGLE.replace("119是火警电话。", "119是火警电话，110是报警电话。"))
    changed = load_bank(bank)
    assert (changed.updated, changed.retired) == (1, 1)
    fire = db.session.scalar(db.select(Question).filter_by(key="XF-001"))
    assert [v.version for v in fire.versions] == [1, 2]
    assert fire.current_version.explanation == "119是火警电话，110是报警电话。"
    assert fire.versions[0].explanation == "119是火警电话。"  # old results keep their wording
    retired = db.session.scalar(db.select(Question).filter_by(key="XF-002"))
    assert retired.is_retired


def test_dry_run_writes_nothing(ctx, tmp_path):
    summary = load_bank(write_bank(tmp_path / "bank", GOOD_SINGLE), dry_run=True)
    assert summary.added == 1
    assert db.session.scalar(db.select(db.func.count(Question.id))) == 0
