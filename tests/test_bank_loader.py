"""The bank files: the shipped bank is valid, and each kind of broken file is refused."""
import difflib
import textwrap
from pathlib import Path

import pytest

from quiz.bank_loader import (
    MIN_PER_CATEGORY,
    BankError,
    check_bank,
    find_near_duplicates,
    load_bank,
    read_bank,
    stem_entry,
)
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


# `flask bank check`'s extra rules: near-duplicate stems across files and per-category counts.

def judge(key: str, stem: str, answer: bool = True) -> str:
    return f"""
  - id: {key}
    type: judge
    difficulty: 1
    stem: {stem}
    answer: {'true' if answer else 'false'}
    explanation: 解析。
    source: 《测试依据》第一条
"""


def test_the_shipped_bank_passes_every_check():
    report = check_bank(PROJECT_ROOT / "questions")
    assert report.problems == []
    assert len(report.records) >= 500
    assert min(report.counts.values()) >= MIN_PER_CATEGORY


def test_the_near_duplicate_scan_runs_the_full_comparison_on_few_pairs(monkeypatch):
    # The cost that grows with the square of the bank is SequenceMatcher.ratio(); the length
    # bound and the answer and quick_ratio filters must keep it to a small share of the pairs
    # (counted rather than timed, so a busy machine cannot fail the test).
    records = read_bank(PROJECT_ROOT / "questions")
    entries = [stem_entry(r.key, r.stem, r.options, r.answer) for r in records]
    full_runs = []
    original = difflib.SequenceMatcher.ratio

    def counted(matcher):
        full_runs.append(1)
        return original(matcher)

    monkeypatch.setattr(difflib.SequenceMatcher, "ratio", counted)
    assert find_near_duplicates(entries) == []
    pairs = len(entries) * (len(entries) - 1) // 2
    assert len(full_runs) < pairs / 100


def test_near_duplicate_stems_across_files_are_refused(tmp_path):
    bank = write_bank(tmp_path / "bank", GOOD_SINGLE)
    write_bank(bank, GOOD_SINGLE.replace("XF-001", "RQ-001")
               .replace("发现火灾后应当立即拨打的", "发现火灾后，要立即拨打的"), name="gas.yaml",
               category="燃气安全")
    report = check_bank(bank, min_per_category=1)
    assert report.problems == [
        "gas.yaml: RQ-001: 题干与 fire.yaml 中的 XF-001 近似重复（相似度 91%，答案相同），请删去一道或改写"]


def test_a_series_sharing_its_stem_but_not_its_answer_is_no_duplicate(tmp_path):
    # As in the shipped bank (JT-006/JT-007): same frame, different fact, different answer.
    body = (judge("JT-001", "在道路上驾驶自行车、三轮车必须年满12周岁。")
            + judge("JT-002", "在道路上驾驶电动自行车必须年满12周岁。", answer=False)
            + judge("JT-003", "暴雨红色预警信号表示3小时内降雨量将达100毫米以上。")
            + judge("JT-004", "暴雨橙色预警信号表示3小时内降雨量将达100毫米以上。", answer=False))
    report = check_bank(write_bank(tmp_path / "bank", body, category="交通安全"), min_per_category=1)
    assert report.problems == []


def test_a_category_with_too_few_questions_fails_and_is_counted(tmp_path):
    bank = write_bank(tmp_path / "bank", GOOD_SINGLE + judge("XF-002", "可以用水扑灭油锅火。", False))
    write_bank(bank, judge("RQ-001", "闻到燃气味时可以打开排气扇。", False), name="gas.yaml",
               category="燃气安全")
    report = check_bank(bank, min_per_category=2)
    assert report.counts == {"消防安全": 2, "燃气安全": 1}
    assert report.problems == ["gas.yaml: 分类“燃气安全”只有 1 道题，至少需要 2 道"]


def test_bank_files_may_not_use_the_import_prefix(tmp_path):
    with pytest.raises(BankError, match="fire.yaml: ZD-001: id 前缀 ZD- 留给组织者导入的题目"):
        read_bank(write_bank(tmp_path / "bank", GOOD_SINGLE.replace("XF-001", "ZD-001")))


def test_near_duplicates_of_known_questions_only(tmp_path):
    known = [stem_entry("XF-001", "发现火灾后应当立即拨打的火警电话是（　）。",
                        [{"key": "A", "text": "119"}], ["A"])]
    close = stem_entry("第 2 行", "发现火灾后，要立即拨打的火警电话是", [{"key": "B", "text": "119"}], ["B"])
    other_answer = stem_entry("第 3 行", "发现火灾后要立即拨打的火警电话是", [{"key": "B", "text": "110"}], ["B"])
    pairs = find_near_duplicates([close, other_answer], known)
    assert [(a.label, b.label) for a, b, _ratio in pairs] == [("XF-001", "第 2 行")]


REGISTRY = """
documents:
  - title: 消防条例
    status: repealed
    note: 已被《中华人民共和国消防法》取代。
  - title: 中华人民共和国消防法
    status: review
    note: 修正案施行后逐条核对。
"""


def bank_with_registry(tmp_path, registry: str = REGISTRY, body: str = GOOD_SINGLE) -> Path:
    bank = write_bank(tmp_path / "bank", body)
    (bank / "_documents.yaml").write_text(textwrap.dedent(registry), encoding="utf-8")
    return bank


def test_questions_citing_a_document_under_review_are_listed_but_pass(tmp_path):
    report = check_bank(bank_with_registry(tmp_path), min_per_category=1)
    assert report.problems == []
    assert report.under_review == {"中华人民共和国消防法": ["XF-001"]}
    assert [record.key for record in report.records] == ["XF-001"]  # the registry holds no questions


def test_a_question_citing_a_repealed_document_fails(tmp_path):
    body = GOOD_SINGLE.replace("《中华人民共和国消防法》第四十四条", "《消防条例》第十条")
    report = check_bank(bank_with_registry(tmp_path, body=body), min_per_category=1)
    assert report.problems == ["fire.yaml: XF-001: 出处引用的《消防条例》已废止"
                               "（已被《中华人民共和国消防法》取代。），请改引现行依据"]
    assert report.under_review == {}


def test_a_title_is_matched_whole_not_as_part_of_a_longer_title(tmp_path):
    body = GOOD_SINGLE.replace("《中华人民共和国消防法》第四十四条", "《消防条例实施细则》第三条")
    report = check_bank(bank_with_registry(tmp_path, body=body), min_per_category=1)
    assert report.problems == [] and report.under_review == {}


@pytest.mark.parametrize("registry, message", [
    ("documents: {}", "_documents.yaml: 应包含 documents"),
    ("documents:\n  - status: current", "_documents.yaml: 第1项: 缺少 title"),
    ("documents:\n  - {title: 消防法, status: old}", "_documents.yaml: 第1项: status 应为 current、review 或 repealed"),
    ("documents:\n  - {title: 消防法, status: review}", "_documents.yaml: 第1项: 待复核的文件要写 note"),
    ("documents:\n  - {title: 消防法, status: current}\n  - {title: 《消防法》, status: current}",
     "_documents.yaml: 第2项: 《消防法》重复"),
    ("documents: [", "_documents.yaml: 无法解析"),
])
def test_a_malformed_registry_fails_the_check_with_its_reason(tmp_path, registry, message):
    report = check_bank(bank_with_registry(tmp_path, registry), min_per_category=1)
    assert len(report.problems) == 1 and report.problems[0].startswith(message)


def test_the_shipped_registry_flags_the_regulation_the_new_hazchem_law_replaces():
    report = check_bank(PROJECT_ROOT / "questions")
    flagged = report.under_review["危险化学品安全管理条例"]
    assert "WH-002" in flagged and len(flagged) >= 10
    # Article numbers of the new law are cited only once checked against its text; none are yet.
    assert not any("危险化学品安全法》第" in record.source for record in report.records)
