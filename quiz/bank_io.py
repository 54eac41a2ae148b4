"""Organisers' own questions: the Excel template, importing a sheet with a preview, exporting.

The sheet has the columns Chinese exam systems use (题型, 题干, 选项A…F, 答案, 解析, 分类,
难度, 出处), with an optional leading 编号 so that an export can be imported again
without duplicates. Every row is checked with the bank files' own rules
(bank_loader.validate_question) after the spreadsheet spellings are understood.
"""
import re
from dataclasses import dataclass, field

from quiz.bank_loader import (
    IMPORT_KEY_PREFIX,
    KEY_PATTERN,
    OPTION_LETTERS,
    QuestionRecord,
    StemEntry,
    add_version,
    find_near_duplicates,
    stem_entry,
    validate_question,
)
from quiz.exports import FORMULA_STARTS, SheetError, workbook_bytes
from quiz.extensions import db
from quiz.forms import CONTROL_CHARACTERS, LINE_BREAKS
from quiz.models import Question, QuestionType, QuestionVersion
from quiz.source_status import DocumentStatus, app_registry, cited_documents

IMPORT_ORIGIN = "import"
KEY_COLUMN = "编号"
OPTION_COLUMNS = [f"选项{letter}" for letter in OPTION_LETTERS]
COLUMNS = ["题型", "题干", *OPTION_COLUMNS, "答案", "解析", "分类", "难度", "出处"]
SHEET_COLUMNS = [KEY_COLUMN, *COLUMNS]
REQUIRED_COLUMNS = ["题型", "题干", "答案", "解析", "分类", "出处"]
MAX_LENGTHS = {"分类": 32, "出处": 255, "题干": 1000, "解析": 2000, **dict.fromkeys(OPTION_COLUMNS, 200)}

TYPE_BY_LABEL = {
    **dict.fromkeys(("单选", "单选题", "单项选择", "单项选择题", "single"), QuestionType.SINGLE),
    **dict.fromkeys(("多选", "多选题", "多项选择", "多项选择题", "不定项选择题", "multiple"),
                    QuestionType.MULTIPLE),
    **dict.fromkeys(("判断", "判断题", "是非题", "judge"), QuestionType.JUDGE),
}
TRUE_SPELLINGS = {"正确", "对", "√", "✓", "✔", "是", "T", "TRUE", "Y"}
FALSE_SPELLINGS = {"错误", "错", "×", "✗", "✘", "X", "否", "F", "FALSE", "N"}
JUDGE_OPTION_TEXTS = {("正确", "错误"), ("对", "错")}
DIFFICULTY_BY_LABEL = {"1": 1, "2": 2, "3": 3, "易": 1, "容易": 1, "简单": 1, "中": 2,
                       "中等": 2, "一般": 2, "难": 3, "较难": 3, "困难": 3}
ANSWER_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
PLACEHOLDER_KEY = IMPORT_KEY_PREFIX + "0000"  # validate_question wants an id; the real one comes later


@dataclass
class ImportRow:
    number: int  # the row number the organiser sees in Excel (header is row 1)
    errors: list[str] = field(default_factory=list)
    record: QuestionRecord | None = None  # the content, with a placeholder key
    key: str = ""  # the 编号 to keep (ZD-…), empty for a new number
    question_id: int | None = None  # the existing question this row updates
    action: str = "new"  # new, update, or same (already in the bank as it is)


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def restore_text(value: str) -> str:
    """Undo the apostrophe our export puts before formula-like text (-18℃ stays -18℃)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def parse_answer(qtype: QuestionType, text: str, letters: list[str]) -> tuple[object, str | None]:
    """The answer in the bank's shape (letter, letters, or bool), or None and the reason."""
    compact = ANSWER_SEPARATORS.sub("", text).upper()
    if qtype is QuestionType.JUDGE:
        if compact in TRUE_SPELLINGS or (letters and compact == "A"):
            return True, None
        if compact in FALSE_SPELLINGS or (letters and compact == "B"):
            return False, None
        return None, "判断题的答案应为 正确 或 错误（也可写 对/错、√/×）"
    if not compact or not all(char in OPTION_LETTERS for char in compact):
        example = "B" if qtype is QuestionType.SINGLE else "ABD 或 A,B,D"
        return None, f"答案应为选项字母，如 {example}"
    if qtype is QuestionType.SINGLE:
        if len(compact) != 1:
            return None, "单选题只能有一个答案字母"
        answer = compact
    else:
        if len(set(compact)) != len(compact):
            return None, "答案中有重复的字母"
        answer = list(compact)
    missing = [char for char in compact if char not in letters]
    if missing:
        filled = f"（{letters[0]}–{letters[-1]}）" if letters else ""
        return None, f"答案 {''.join(missing)} 不在已填写的选项{filled}之中"
    return answer, None


def check_row(values: dict[str, str]) -> tuple[QuestionRecord | None, list[tuple[str, str]]]:
    """Check one question given in the sheet's columns; errors are (column, reason) pairs."""
    values = {name: restore_text((values.get(name) or "").strip()) for name in COLUMNS}
    errors: list[tuple[str, str]] = []
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            errors.append((name, f"请填写{name}"))
    for name, value in values.items():
        if any(char in CONTROL_CHARACTERS - LINE_BREAKS for char in value):
            errors.append((name, f"{name}中有无法识别的字符"))
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            errors.append((name, f"{name}不能超过 {limit} 个字"))
    qtype = TYPE_BY_LABEL.get(values["题型"].lower())
    if values["题型"] and qtype is None:
        errors.append(("题型", "题型应为 单选、多选 或 判断"))
    difficulty = DIFFICULTY_BY_LABEL.get(values["难度"].removesuffix(".0") or "1")
    if difficulty is None:
        errors.append(("难度", "难度应为 1、2、3（或 易、中、难）"))

    filled = [letter for letter in OPTION_LETTERS if values[f"选项{letter}"]]
    letters = list(OPTION_LETTERS[: len(filled)])
    if filled != letters:
        errors.append(("选项A", "选项要从选项A开始依次填写，中间不能空"))
    options = {letter: values[f"选项{letter}"] for letter in filled}
    if qtype is QuestionType.JUDGE:
        if options and tuple(options.values()) not in JUDGE_OPTION_TEXTS:
            errors.append(("选项A", "判断题不用填选项（或只填 选项A 正确、选项B 错误）"))
        letters = list(options)
    elif qtype is not None and len(options) < 3:
        errors.append(("选项A", "选择题至少要填 3 个选项"))
    texts = list(options.values())
    for index, text in enumerate(texts):
        if text in texts[:index]:
            errors.append((f"选项{filled[index]}",
                           f"选项{filled[index]}与选项{filled[texts.index(text)]}内容相同"))
    answer = None
    if qtype is not None and values["答案"]:
        answer, reason = parse_answer(qtype, values["答案"], letters)
        if reason:
            errors.append(("答案", reason))
        elif qtype is QuestionType.MULTIPLE and len(answer) < 2:
            errors.append(("答案", "多选题至少要有 2 个正确选项"))
        elif qtype is QuestionType.MULTIPLE and len(answer) == len(letters):
            errors.append(("答案", "多选题的答案不能是全部选项"))
    if errors:
        return None, errors
    raw = {"id": PLACEHOLDER_KEY, "type": qtype.value, "difficulty": difficulty,
           "stem": values["题干"], "answer": answer, "explanation": values["解析"],
           "source": values["出处"]}
    if qtype is not QuestionType.JUDGE:
        raw["options"] = options
    record, reasons = validate_question(raw, values["分类"], allow_import_prefix=True)
    return record, [("题干", reason) for reason in reasons]  # the rules above catch these first


def check_import(rows: list[dict[str, str]]) -> list[ImportRow]:
    """Check every row of a sheet; nothing is written."""
    if not rows:
        raise SheetError("文件中没有题目")
    header = list(rows[0])
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in SHEET_COLUMNS]
    if missing or unknown:
        problems = [f"缺少列：{'、'.join(missing)}" if missing else "",
                    f"不认识的列：{'、'.join(unknown)}" if unknown else ""]
        raise SheetError("；".join(p for p in problems if p) + "。请使用下载的模板。")

    given_keys = {(raw.get(KEY_COLUMN) or "").strip().upper() for raw in rows} - {""}
    existing = {question.key: question for question in db.session.scalars(
        db.select(Question).where(Question.key.in_(given_keys)))} if given_keys else {}
    checked: list[ImportRow] = []
    key_rows: dict[str, int] = {}
    registry = app_registry()  # an import may not cite a document it marks repealed
    for number, raw in enumerate(rows, start=2):
        row = ImportRow(number=number)
        row.record, errors = check_row(raw)
        row.errors = [reason for _column, reason in errors]
        if row.record is not None:
            row.errors += [f"出处引用的《{document.title}》已废止（{document.note}），请改引现行依据"
                           for document in cited_documents(row.record.source, registry,
                                                           DocumentStatus.REPEALED)]
        key = (raw.get(KEY_COLUMN) or "").strip().upper()
        if key:
            _match_key(row, key, existing.get(key), key_rows)
        checked.append(row)
    _check_duplicates([row for row in checked if not row.errors and row.action != "same"])
    return checked


def _match_key(row: ImportRow, key: str, question: Question | None, key_rows: dict[str, int]) -> None:
    """A row with 编号: the same question again, an update of an import, or a new one."""
    if not KEY_PATTERN.match(key):
        row.errors.append("编号格式应为 大写字母-数字（如 ZD-0001），新题可以不填")
        return
    if key in key_rows:
        row.errors.append(f"编号 {key} 与第 {key_rows[key]} 行重复")
        return
    key_rows[key] = row.number
    if question is None:
        # An export's ZD- numbers are kept; any other id (a bank file's) gets a new ZD- number.
        row.key = key if key.startswith(IMPORT_KEY_PREFIX) else ""
        return
    if row.record is None:
        return
    if row.record.qtype is not question.qtype:
        row.errors.append(f"编号 {key} 的题目是{question.qtype.label}，不能改成"
                          f"{row.record.qtype.label}；要作为新题导入请清空编号")
    elif question.current_version is not None \
            and question.current_version.content_hash == row.record.content_hash \
            and question.category == row.record.category:
        row.action, row.question_id = "same", question.id
    elif question.origin != IMPORT_ORIGIN:
        row.errors.append(f"编号 {key} 是题库文件中的题目，只能在 questions/ 目录中修改；"
                          "要作为新题导入请清空编号")
    else:
        row.action, row.question_id, row.key = "update", question.id, key


def _check_duplicates(rows: list[ImportRow]) -> None:
    """Refuse rows whose stem repeats another row's or a question already in the bank."""
    updated_ids = {row.question_id for row in rows if row.question_id}
    known = current_stem_entries(exclude_ids=updated_ids)
    known_by_stem = {entry.stem: entry.label for entry in known}
    entries, row_of = [], {}
    seen: dict[str, int] = {}
    for row in rows:
        entry = stem_entry(f"第 {row.number} 行", row.record.stem, row.record.options,
                           row.record.answer)
        if entry.stem in known_by_stem:
            row.errors.append(f"题干与{known_by_stem[entry.stem]}重复")
        elif entry.stem in seen:
            row.errors.append(f"题干与第 {seen[entry.stem]} 行重复")
        else:
            seen[entry.stem] = row.number
            entries.append(entry)
            row_of[entry.label] = row
    for earlier, later, ratio in find_near_duplicates(entries, known):
        row_of[later.label].errors.append(
            f"题干与{earlier.label}近似重复（相似度 {ratio:.0%}，答案相同）")


def stem_clash(record: QuestionRecord, question_id: int) -> str | None:
    """Why an edited question's stem may not be saved: it repeats another question's."""
    known = current_stem_entries(exclude_ids={question_id})
    entry = stem_entry("本题", record.stem, record.options, record.answer)
    same = next((other.label for other in known if other.stem == entry.stem), None)
    if same:
        return f"题干与{same}重复"
    for earlier, _later, ratio in find_near_duplicates([entry], known):
        return f"题干与{earlier.label}近似重复（相似度 {ratio:.0%}，答案相同）"
    return None


def current_stem_entries(exclude_ids: set[int] = frozenset()) -> list[StemEntry]:
    """The stems of every question still in use, for the duplicate checks (one query)."""
    query = (db.select(Question.id, Question.key, QuestionVersion.stem, QuestionVersion.options,
                       QuestionVersion.answer)
             .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
             .where(Question.is_retired.is_(False)))
    return [stem_entry(f"已有题目 {key}", stem, options, answer)
            for qid, key, stem, options, answer in db.session.execute(query) if qid not in exclude_ids]


def apply_import(rows: list[ImportRow]) -> ImportSummary:
    """Add the good rows as the organiser's own questions, or new versions of them; the caller commits."""
    summary = ImportSummary()
    kept = {row.key for row in rows if not row.errors and row.action == "new" and row.key}
    numbers = key_numbers(kept)
    for row in rows:
        if row.errors:
            continue
        if row.action == "same":
            summary.unchanged += 1
        elif row.action == "update":
            question = db.session.get(Question, row.question_id)
            save_new_version(question, row.record)
            summary.updated += 1
        else:
            key = row.key or f"{IMPORT_KEY_PREFIX}{next(numbers):04d}"
            question = Question(key=key, category=row.record.category, qtype=row.record.qtype,
                                origin=IMPORT_ORIGIN)
            db.session.add(question)
            add_version(question, row.record, number=1)
            summary.added += 1
    db.session.flush()
    return summary


def key_numbers(reserved: set[str]):
    """Free ZD- numbers after the highest one in use."""
    used = set(db.session.scalars(db.select(Question.key).where(
        Question.key.startswith(IMPORT_KEY_PREFIX)))) | reserved
    highest = max((int(key.removeprefix(IMPORT_KEY_PREFIX)) for key in used
                   if KEY_PATTERN.match(key)), default=0)
    number = highest + 1
    while True:
        yield number
        number += 1


def save_new_version(question: Question, record: QuestionRecord) -> QuestionVersion:
    """Edit an organiser's question: a new version; attempts keep the one they were drawn with."""
    question.category = record.category
    number = (db.session.scalar(db.select(db.func.max(QuestionVersion.version))
                                .where(QuestionVersion.question_id == question.id)) or 0) + 1
    return add_version(question, record, number=number)


def row_values(question: Question) -> dict[str, object]:
    """A question in the sheet's columns (the form and the export use this)."""
    version = question.current_version
    values: dict[str, object] = dict.fromkeys(SHEET_COLUMNS, "")
    values.update({KEY_COLUMN: question.key, "题型": question.qtype.label, "题干": version.stem,
                   "解析": version.explanation, "分类": question.category,
                   "难度": version.difficulty, "出处": version.source})
    if question.qtype is QuestionType.JUDGE:
        values["答案"] = "正确" if version.answer == ["T"] else "错误"
    else:
        for option in version.options:
            values[f"选项{option['key']}"] = option["text"]
        values["答案"] = "".join(version.answer)
    return values


def export_bytes(questions: list[Question]) -> bytes:
    """The questions as an .xlsx in the template's columns, formula-like text neutralised."""
    rows = [[row_values(question)[name] for name in SHEET_COLUMNS] for question in questions]
    return workbook_bytes([("题目", SHEET_COLUMNS, rows), _instructions_sheet()])


TEMPLATE_EXAMPLES = [
    ["", "单选", "发现着火后，应当立即拨打的火警电话是（　）。", "110", "119", "120", "122", "", "",
     "B", "119是火警电话；110是报警电话，120是急救电话，122是交通事故报警电话。", "消防安全", 1,
     "《中华人民共和国消防法》第四十四条"],
    ["", "多选", "家中燃气泄漏时，下列做法正确的有（　）。", "立即关闭燃气总阀",
     "打开门窗通风", "打开排气扇排气", "到室外安全处拨打燃气公司抢修电话", "", "", "A,B,D",
     "燃气泄漏时严禁开关任何电器，以免产生电火花引爆燃气；应关阀、通风，到室外报修。",
     "燃气安全", 1, "应急管理部消防救援局燃气使用安全提示"],
    ["", "判断", "电动自行车可以停放在楼梯间、疏散通道或安全出口处充电。", "", "", "", "", "", "",
     "错误", "在楼梯间、疏散通道、安全出口处停放电动自行车或充电，起火后会堵塞逃生通道。",
     "电动自行车充电", 1,
     "《高层民用建筑消防安全管理规定》（应急管理部令第5号）第三十七条；"
     "公安部《关于规范电动车停放充电加强火灾防范的通告》第三条"],
]


def _instructions_sheet() -> tuple[str, list[str], list[list]]:
    lines = [
        "每行一道题；第一行是表头，不要改动列名。",
        "编号：新题留空，导入后自动编为 ZD-0001 这样的编号；从本系统导出的文件保留编号，再次导入不会重复。",
        "题型：单选、多选 或 判断。",
        "选项：从选项A开始依次填写；选择题至少 3 个、最多 6 个选项；判断题不用填选项。",
        "答案：单选填一个字母，如 B；多选填 ABD 或 A,B,D（至少 2 个，不能全选）；判断填 正确/错误（也可写 对/错、√/×）。",
        "解析：为什么这个答案是对的，一两句话。出处：法律条款、标准编号或官方指引，要能查证。",
        "分类：如 消防安全、燃气安全；难度：1（易）、2（中）、3（难），留空为 1。",
    ]
    return ("填写说明", ["填写说明"], [[line] for line in lines])


def template_bytes() -> bytes:
    """The downloadable template: the header, three example rows, and the instructions."""
    return workbook_bytes([("题目", SHEET_COLUMNS, TEMPLATE_EXAMPLES), _instructions_sheet()])
