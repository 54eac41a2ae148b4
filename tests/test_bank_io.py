"""Organisers' question sheets: the template, import checks, export, and the round trip."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from quiz.bank_io import (
    SHEET_COLUMNS,
    apply_import,
    check_import,
    export_bytes,
    template_bytes,
)
from quiz.bank_loader import load_bank
from quiz.config import PROJECT_ROOT
from quiz.exports import SheetError, read_rows
from quiz.extensions import db
from quiz.models import Question, QuestionType
from tests.conftest import empty_database
from tests.factories import make_question

FIRE = {"题型": "单选", "题干": "油锅起火时，正确的做法是（　）。", "选项A": "立即用水浇灭",
        "选项B": "关火并盖上锅盖", "选项C": "端起油锅往外跑", "答案": "B",
        "解析": "盖上锅盖可隔绝空气窒息灭火，用水会使热油飞溅扩大火势。", "分类": "消防安全",
        "难度": "1", "出处": "公安部等部门《消防安全常识二十条》"}
GAS = {"题型": "多选题", "题干": "家中闻到燃气味时，应当（　）。", "选项A": "关闭燃气总阀",
       "选项B": "打开门窗通风", "选项C": "打开抽油烟机排气", "选项D": "到室外拨打抢修电话",
       "答案": "A,B、D", "解析": "燃气泄漏时开关电器会产生电火花，可能引爆燃气。", "分类": "燃气安全",
       "难度": "中", "出处": "应急管理部消防救援局燃气使用安全提示"}
EBIKE = {"题型": "判断", "题干": "电动自行车可以在楼梯间充电。", "答案": "×",
         "解析": "楼梯间是疏散通道，充电起火会堵住逃生路。", "分类": "电动自行车充电",
         "出处": "《高层民用建筑消防安全管理规定》（应急管理部令第5号）第三十七条"}


def sheet(rows: list[dict], columns=SHEET_COLUMNS) -> bytes:
    book = Workbook()
    book.active.append(list(columns))
    for row in rows:
        book.active.append([row.get(name, "") for name in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def exported_rows(data: bytes) -> list[list]:
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == SHEET_COLUMNS
    return [list(row) for row in rows[1:]]


def import_all(data: bytes, filename: str = "bank.xlsx"):
    rows = check_import(read_rows(filename, data))
    summary = apply_import(rows)
    db.session.commit()
    return rows, summary


def test_a_clean_sheet_imports_each_type_as_the_organisers_own(ctx):
    rows, summary = import_all(sheet([FIRE, GAS, EBIKE]))
    assert [row.errors for row in rows] == [[], [], []]
    assert (summary.added, summary.updated, summary.unchanged) == (3, 0, 0)
    questions = db.session.scalars(db.select(Question).order_by(Question.key)).all()
    assert [q.key for q in questions] == ["ZD-0001", "ZD-0002", "ZD-0003"]
    assert {q.origin for q in questions} == {"import"}
    fire, gas, ebike = (q.current_version for q in questions)
    assert fire.answer == ["B"] and [o["key"] for o in fire.options] == ["A", "B", "C"]
    assert gas.answer == ["A", "B", "D"] and gas.difficulty == 2
    assert questions[2].qtype is QuestionType.JUDGE and ebike.answer == ["F"]
    assert fire.source == FIRE["出处"] and fire.explanation == FIRE["解析"]


@pytest.mark.parametrize("qtype, answer, expected", [
    ("单选", "b", ["B"]), ("单选题", " C ", ["C"]),
    ("多选", "ABD", ["A", "B", "D"]), ("多选", "A,B,D", ["A", "B", "D"]),
    ("多项选择题", "A、B", ["A", "B"]), ("多选", "D;A", ["A", "D"]),
    ("判断", "正确", ["T"]), ("判断", "对", ["T"]), ("判断", "√", ["T"]),
    ("判断题", "错误", ["F"]), ("判断", "错", ["F"]), ("判断", "×", ["F"]),
])
def test_answer_spellings_of_chinese_exam_files(ctx, qtype, answer, expected):
    row = {**FIRE, "题型": qtype, "答案": answer, "选项D": "用灭火毯覆盖"}
    if "判断" in qtype:
        row = {**EBIKE, "题型": qtype, "答案": answer}
    [checked] = check_import(read_rows("bank.xlsx", sheet([row])))
    assert checked.errors == []
    assert checked.record.answer == expected


def test_judge_rows_may_carry_the_true_false_options_other_systems_export(ctx):
    [checked] = check_import(read_rows("bank.xlsx", sheet([
        {**EBIKE, "选项A": "正确", "选项B": "错误", "答案": "B"}])))
    assert checked.errors == [] and checked.record.answer == ["F"]


BAD_ROWS = [
    ({**FIRE, "题型": "问答"}, "题型应为 单选、多选 或 判断"),
    ({**FIRE, "题干": ""}, "请填写题干"),
    ({**FIRE, "解析": ""}, "请填写解析"),
    ({**FIRE, "出处": ""}, "请填写出处"),
    ({**FIRE, "答案": "E"}, "答案 E 不在已填写的选项（A–C）之中"),
    ({**FIRE, "答案": "AB"}, "单选题只能有一个答案字母"),
    ({**FIRE, "答案": "是B"}, "答案应为选项字母，如 B"),
    ({**FIRE, "选项C": "", "选项D": "端起油锅往外跑"}, "选项要从选项A开始依次填写"),
    ({**FIRE, "选项C": ""}, "选择题至少要填 3 个选项"),
    ({**FIRE, "选项C": "立即用水浇灭"}, "选项C与选项A内容相同"),
    ({**GAS, "答案": "A"}, "多选题至少要有 2 个正确选项"),
    ({**GAS, "答案": "ABCD"}, "多选题的答案不能是全部选项"),
    ({**GAS, "答案": "AAB"}, "答案中有重复的字母"),
    ({**EBIKE, "答案": "不对"}, "判断题的答案应为 正确 或 错误"),
    ({**EBIKE, "选项A": "是", "选项B": "否"}, "判断题不用填选项"),
    ({**FIRE, "难度": "5"}, "难度应为 1、2、3"),
    ({**FIRE, "分类": "消" * 33}, "分类不能超过 32 个字"),
    ({**FIRE, "编号": "fire-1"}, "编号格式应为"),
]


@pytest.mark.parametrize("row, reason", BAD_ROWS, ids=[reason for _row, reason in BAD_ROWS])
def test_a_bad_row_is_reported_with_its_row_number_and_reason(ctx, row, reason):
    checked = check_import(read_rows("bank.xlsx", sheet([GAS, row, EBIKE])))
    assert [r.number for r in checked if r.errors] == [3]
    assert any(reason in error for error in checked[1].errors), checked[1].errors
    summary = apply_import(checked)  # what "只导入正确的行" does
    db.session.commit()
    assert summary.added == 2
    assert {v.current_version.stem for v in db.session.scalars(db.select(Question))} == \
        {GAS["题干"], EBIKE["题干"]}


def test_repeated_and_near_repeated_stems_are_refused(ctx):
    known = make_question(key="XF-001", stem="发现着火后应当立即拨打的火警电话是（　）。")
    near_bank = {**FIRE, "题干": "发现着火后，要立即拨打的火警电话是（　）。",
                 "选项B": known.current_version.option_text("B")}  # its answer, too
    checked = check_import(read_rows("bank.xlsx", sheet([
        FIRE, {**FIRE, "题干": "油锅起火时，正确的做法是？"}, near_bank,
        {**FIRE, "题干": "油锅起火时，正确的处理做法是（　）。"}])))
    assert checked[0].errors == []
    assert checked[1].errors == ["题干与第 2 行重复"]
    assert checked[2].errors[0].startswith("题干与已有题目 XF-001近似重复")
    assert checked[3].errors[0].startswith("题干与第 2 行近似重复")


def test_unknown_or_missing_columns_refuse_the_whole_file(ctx):
    with pytest.raises(SheetError, match="缺少列：答案.*不认识的列：选项G"):
        check_import(read_rows("bank.xlsx", sheet(
            [FIRE], columns=[c for c in SHEET_COLUMNS if c != "答案"] + ["选项G"])))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_in_utf8_and_gb18030(ctx, encoding):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SHEET_COLUMNS)
    writer.writeheader()
    writer.writerows([FIRE, GAS])
    rows, summary = import_all(text.getvalue().encode(encoding), "题目.csv")
    assert summary.added == 2 and not any(row.errors for row in rows)
    gas = db.session.scalar(db.select(Question).filter_by(key="ZD-0002"))
    assert gas.current_version.option_text("D") == "到室外拨打抢修电话"


def test_the_round_trip_export_import_export_gives_the_same_questions(ctx):
    load_bank(PROJECT_ROOT / "questions")
    # A cell typed as =… would be a formula; a sheet we exported carries it as '=…
    _rows, own = import_all(sheet([
        {**FIRE, "选项A": "-18℃以下", "题干": "'=冷库温度（　）。", "选项C": "@某某"}, GAS, EBIKE]))
    assert own.added == 3
    every = db.session.scalars(db.select(Question).order_by(Question.key)).all()
    first = export_bytes(every)

    empty_database()
    rows, summary = import_all(first)
    assert [row for row in rows if row.errors] == []
    assert summary.added == len(every) >= 500
    second = export_bytes(db.session.scalars(db.select(Question).order_by(Question.key)).all())

    def by_content(data):  # bank questions get new ZD- numbers; everything else is kept
        return sorted(row[1:] for row in exported_rows(data))

    assert by_content(second) == by_content(first)
    imported_keys = {row[0] for row in exported_rows(second)}
    assert {"ZD-0001", "ZD-0002", "ZD-0003"} <= imported_keys
    assert all(key.startswith("ZD-") for key in imported_keys)
    cold = db.session.scalar(db.select(Question).filter_by(key="ZD-0001")).current_version
    assert cold.stem == "=冷库温度（　）。" and cold.option_text("A") == "-18℃以下"


def test_formula_like_cells_are_neutralised_in_the_export(ctx):
    _rows, _summary = import_all(sheet([{**FIRE, "题干": "'=HYPERLINK(\"http://x\")（　）",
                                         "选项A": "+1", "选项C": "@SUM(A1)", "解析": "-5"}]))
    [row] = exported_rows(export_bytes(db.session.scalars(db.select(Question)).all()))
    cells = dict(zip(SHEET_COLUMNS, row))
    assert cells["题干"] == "'=HYPERLINK(\"http://x\")（　）"
    assert (cells["选项A"], cells["选项C"], cells["解析"]) == ("'+1", "'@SUM(A1)", "'-5")


def test_reimporting_an_export_updates_own_questions_and_never_touches_bank_files(ctx):
    bank = make_question(key="XF-001", stem="家用灭火器应当放在（　）。")
    import_all(sheet([FIRE, GAS]))
    exported = exported_rows(export_bytes(
        db.session.scalars(db.select(Question).order_by(Question.key)).all()))
    rows = [dict(zip(SHEET_COLUMNS, ["" if v is None else str(v) for v in row])) for row in exported]
    again = check_import(read_rows("bank.xlsx", sheet(rows)))
    assert [(row.errors, row.action) for row in again] == [([], "same")] * 3

    rows[0]["解析"] = "改过的解析。"  # XF-001 (a bank file's question)
    rows[1]["解析"] = "改过的解析。"  # ZD-0001, the organiser's own
    rows[2]["编号"] = "XF-002"  # not in the bank: a new ZD- number, never a bank id
    rows[2]["题干"] = "发现邻居家有燃气泄漏的气味，下列做法正确的有（　）。"
    checked = check_import(read_rows("bank.xlsx", sheet(rows)))
    assert "编号 XF-001 是题库文件中的题目，只能在 questions/ 目录中修改" in checked[0].errors[0]
    assert (checked[1].errors, checked[1].action) == ([], "update")
    assert (checked[2].errors, checked[2].action, checked[2].key) == ([], "new", "")
    summary = apply_import(checked)
    db.session.commit()
    assert (summary.added, summary.updated) == (1, 1)
    fire = db.session.scalar(db.select(Question).filter_by(key="ZD-0001"))
    assert [v.version for v in fire.versions] == [1, 2]
    assert fire.current_version.explanation == "改过的解析。"
    assert db.session.get(Question, bank.id).current_version.version == 1
    assert db.session.scalar(db.select(Question).filter_by(key="ZD-0003")).origin == "import"
    assert db.session.scalar(db.select(Question).filter_by(key="XF-002")) is None


def test_the_type_of_an_existing_question_cannot_change(ctx):
    import_all(sheet([FIRE]))
    [checked] = check_import(read_rows("bank.xlsx", sheet([
        {**FIRE, "编号": "ZD-0001", "题型": "多选", "答案": "AB"}])))
    assert "编号 ZD-0001 的题目是单选题，不能改成多选题" in checked.errors[0]


def test_the_template_reads_back_as_three_good_example_rows(ctx):
    rows = check_import(read_rows("模板.xlsx", template_bytes()))
    assert [row.errors for row in rows] == [[], [], []]
    assert [row.record.qtype for row in rows] == [QuestionType.SINGLE, QuestionType.MULTIPLE,
                                                 QuestionType.JUDGE]
    book = load_workbook(io.BytesIO(template_bytes()))
    assert book.sheetnames == ["题目", "填写说明"]


def test_loading_the_bank_files_leaves_imported_questions_alone(ctx, tmp_path):
    import_all(sheet([FIRE]))
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "gas.yaml").write_text(
        "category: 燃气安全\nquestions:\n  - id: RQ-001\n    type: judge\n    stem: 可以用明火检漏。\n"
        "    answer: false\n    explanation: 明火会引爆泄漏的燃气。\n    source: 测试依据\n", encoding="utf-8")
    summary = load_bank(bank)
    assert (summary.added, summary.retired) == (1, 0)
    own = db.session.scalar(db.select(Question).filter_by(key="ZD-0001"))
    assert own.origin == "import" and not own.is_retired and len(own.versions) == 1


def test_a_row_citing_a_repealed_document_is_refused(ctx, app, tmp_path):
    from tests.test_bank_loader import bank_with_registry
    app.config["QUESTION_BANK_DIR"] = str(bank_with_registry(tmp_path))  # 《消防条例》 repealed
    checked = check_import(read_rows("bank.xlsx", sheet([
        {**FIRE, "出处": "《消防条例》第十条"}, {**GAS, "出处": "《消防条例实施细则》第三条"}])))
    assert checked[0].errors == ["出处引用的《消防条例》已废止（已被《中华人民共和国消防法》取代。），请改引现行依据"]
    assert checked[1].errors == []  # another title that merely begins the same
