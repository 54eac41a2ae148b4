"""Read, validate and load the question bank files in questions/."""
import difflib
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from quiz.extensions import db
from quiz.models import Question, QuestionType, QuestionVersion
from quiz.source_status import DocumentStatus, RegistryError, cited_documents, read_registry

KEY_PATTERN = re.compile(r"^[A-Z]{2,4}-\d{3,4}$")
# Organisers' imported questions are numbered ZD-0001 …; bank files may not use the prefix,
# so an import can never take, or be overwritten by, a bank-file question's id.
IMPORT_KEY_PREFIX = "ZD-"
MIN_PER_CATEGORY = 25
NEAR_DUPLICATE_RATIO = 0.9
# libyaml's safe loader parses the bank about ten times faster than the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OPTION_LETTERS = "ABCDEF"
JUDGE_OPTIONS = [{"key": "T", "text": "正确"}, {"key": "F", "text": "错误"}]
QUESTION_FIELDS = {"id", "type", "difficulty", "stem", "options", "answer", "explanation", "source"}


class BankError(Exception):
    """The bank files are invalid; the message lists every problem with file and id."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class QuestionRecord:
    """A validated question, in the shape the database stores."""

    key: str
    category: str
    qtype: QuestionType
    difficulty: int
    stem: str
    options: list
    answer: list
    explanation: str
    source: str

    @property
    def content_hash(self) -> str:
        content = [self.category, self.qtype.value, self.difficulty, self.stem, self.options,
                   self.answer, self.explanation, self.source]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


@dataclass
class LoadSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    categories: dict[str, int] = field(default_factory=dict)


def normalise_stem(stem: str) -> str:
    """Reduce a stem to its letters and digits, to catch duplicates that differ in punctuation."""
    text = unicodedata.normalize("NFKC", stem)
    return "".join(char for char in text if char.isalnum())


def _is_text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def validate_question(raw, category: str, allow_import_prefix: bool = False
                      ) -> tuple[QuestionRecord | None, list[str]]:
    """Check one raw question; return the record, or None and the reasons it is invalid."""
    if not isinstance(raw, dict):
        return None, ["不是一道题目的键值对"]
    problems = []
    unknown = set(raw) - QUESTION_FIELDS
    if unknown:
        problems.append(f"未知字段 {', '.join(sorted(map(str, unknown)))}")
    missing = [name for name in ("id", "type", "stem", "answer", "explanation", "source")
               if name not in raw]
    if missing:
        problems.append(f"缺少字段 {', '.join(missing)}")
        return None, problems
    key = raw["id"]
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.append(f"id {key!r} 格式应为 大写字母-数字，如 XF-001")
    elif key.startswith(IMPORT_KEY_PREFIX) and not allow_import_prefix:
        problems.append(f"id 前缀 {IMPORT_KEY_PREFIX} 留给组织者导入的题目，题库文件请换一个前缀")
    try:
        qtype = QuestionType(raw["type"])
    except ValueError:
        return None, problems + [f"type 应为 single、multiple 或 judge，而不是 {raw['type']!r}"]
    difficulty = raw.get("difficulty", 1)
    if difficulty not in (1, 2, 3) or isinstance(difficulty, bool):
        problems.append("difficulty 应为 1、2 或 3")
    for name in ("stem", "explanation", "source"):
        if not _is_text(raw[name]):
            problems.append(f"{name} 不能为空")

    answer = raw["answer"]
    if qtype is QuestionType.JUDGE:
        if "options" in raw:
            problems.append("判断题不需要 options")
        if not isinstance(answer, bool):
            problems.append("判断题的 answer 应为 true 或 false")
        options = JUDGE_OPTIONS
        keys = ["T"] if answer is True else ["F"]
    else:
        options_raw = raw.get("options")
        if not isinstance(options_raw, dict) or len(options_raw) < 3:
            return None, problems + ["选择题至少要有 3 个选项（options: A、B、C …）"]
        letters = list(options_raw)
        if letters != list(OPTION_LETTERS[: len(letters)]):
            problems.append("选项应依次为 A、B、C …，不跳字母")
        if not all(_is_text(text) for text in options_raw.values()):
            problems.append("选项内容不能为空（纯数字请加引号）")
        texts = [str(text).strip() for text in options_raw.values()]
        if len(set(texts)) != len(texts):
            problems.append("有两个选项内容相同")
        options = [{"key": letter, "text": str(text).strip()} for letter, text in options_raw.items()]
        keys = [answer] if isinstance(answer, str) else answer
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            return None, problems + ["answer 应为选项字母（多选题为字母列表）"]
        if any(k not in options_raw for k in keys):
            problems.append(f"答案 {keys} 不在选项 {letters} 之中")
        if len(set(keys)) != len(keys):
            problems.append("答案中有重复字母")
        if qtype is QuestionType.SINGLE and (not isinstance(answer, str) or len(keys) != 1):
            problems.append("单选题的 answer 应为一个字母")
        if qtype is QuestionType.MULTIPLE:
            if len(keys) < 2:
                problems.append("多选题至少要有 2 个正确选项")
            if len(set(keys)) == len(letters):
                problems.append("多选题的答案不能是全部选项")
        keys = sorted(set(keys))
    if problems:
        return None, problems
    record = QuestionRecord(
        key=key, category=category, qtype=qtype, difficulty=difficulty,
        stem=raw["stem"].strip(), options=options, answer=keys,
        explanation=raw["explanation"].strip(), source=raw["source"].strip(),
    )
    return record, []


def read_bank(directory: str | Path) -> list[QuestionRecord]:
    """Read and validate every bank file; raise BankError naming each file, id and reason."""
    records, _files, problems = _read_files(directory)
    if problems:
        raise BankError(problems)
    return records


def _read_files(directory: str | Path) -> tuple[list[QuestionRecord], dict[str, str], list[str]]:
    """The valid records, the file each record's id came from, and every problem found."""
    # "_documents.yaml" and other files starting with "_" describe the bank, not questions
    files = sorted(path for path in Path(directory).glob("*.yaml") if not path.name.startswith("_"))
    if not files:
        return [], {}, [f"{directory}: 没有找到题库文件（*.yaml）"]
    problems: list[str] = []
    records: list[QuestionRecord] = []
    seen_keys: dict[str, str] = {}
    seen_stems: dict[str, str] = {}
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            problems.append(f"{path.name}: 无法解析: {error}")
            continue
        if not isinstance(data, dict) or not _is_text(data.get("category")) \
                or not isinstance(data.get("questions"), list):
            problems.append(f"{path.name}: 文件应包含 category（分类名）和 questions（题目列表）")
            continue
        for index, raw in enumerate(data["questions"], start=1):
            label = raw.get("id", f"第{index}题") if isinstance(raw, dict) else f"第{index}题"
            record, reasons = validate_question(raw, data["category"].strip())
            problems.extend(f"{path.name}: {label}: {reason}" for reason in reasons)
            if record is None:
                continue
            if record.key in seen_keys:
                problems.append(f"{path.name}: {record.key}: id 与 {seen_keys[record.key]} 中的题目重复")
                continue
            seen_keys[record.key] = path.name
            stem = normalise_stem(record.stem)
            if stem in seen_stems:
                problems.append(f"{path.name}: {record.key}: 题干与 {seen_stems[stem]} 重复")
            seen_stems[stem] = record.key
            records.append(record)
    return records, seen_keys, problems


@dataclass(frozen=True)
class StemEntry:
    """A question as the duplicate check sees it."""

    label: str  # how a problem names it: "XF-001", "第 3 行", "已有题目 XF-001"
    stem: str  # normalise_stem() of the stem
    answer: tuple[str, ...]  # the correct options' texts, normalised and sorted


def stem_entry(label: str, stem: str, options: list[dict], answer: list[str]) -> StemEntry:
    texts = sorted(normalise_stem(option["text"]) for option in options if option["key"] in answer)
    return StemEntry(label=label, stem=normalise_stem(stem), answer=tuple(texts))


def find_near_duplicates(entries: list[StemEntry], known: list[StemEntry] = (),
                         threshold: float = NEAR_DUPLICATE_RATIO
                         ) -> list[tuple[StemEntry, StemEntry, float]]:
    """Pairs (earlier, later) of near-identical stems that also expect the same answer.

    ``known`` entries (questions already accepted) are compared with ``entries`` but not
    with each other, and always count as the earlier one. Identical stems are left to the
    exact check. The answer must match too because a series of questions shares almost
    its whole stem and asks for a different fact each time (暴雨红色/橙色预警的标准是…;
    驾驶自行车/电动自行车必须年满…): those are distinct questions, with distinct answers.
    """
    ordered = list(enumerate([*known, *entries]))
    known_count = len(known)
    # Sorted by length, the real_quick_ratio bound ends each scan early: a shorter stem
    # can only be less similar, so ~130,000 pairs of a 500-question bank take a fraction
    # of a second instead of a full SequenceMatcher run each.
    ordered.sort(key=lambda item: len(item[1].stem))
    matcher = difflib.SequenceMatcher(autojunk=False)
    pairs = []
    for position, (index, entry) in enumerate(ordered):
        matcher.set_seq2(entry.stem)
        for other_index, other in reversed(ordered[:position]):
            matcher.set_seq1(other.stem)
            if matcher.real_quick_ratio() < threshold:
                break
            if (index < known_count and other_index < known_count) \
                    or other.answer != entry.answer or other.stem == entry.stem:
                continue
            if matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio >= threshold:
                first, second = sorted(((index, entry), (other_index, other)))
                pairs.append((first[1], second[1], ratio))
    return pairs


@dataclass
class BankReport:
    """What `flask bank check` found: the valid questions, counts per category, problems."""

    records: list[QuestionRecord]
    counts: dict[str, int]
    problems: list[str]
    # the ids citing each document under review (questions/_documents.yaml): warnings, not failures
    under_review: dict[str, list[str]] = field(default_factory=dict)


def check_bank(directory: str | Path, min_per_category: int = MIN_PER_CATEGORY) -> BankReport:
    """Every check of the bank files: schema, ids, answers, duplicate and near-duplicate
    stems across files, and at least ``min_per_category`` questions in each category."""
    records, file_of, problems = _read_files(directory)
    entries = [stem_entry(record.key, record.stem, record.options, record.answer)
               for record in records]
    for earlier, later, ratio in find_near_duplicates(entries):
        problems.append(f"{file_of[later.label]}: {later.label}: 题干与 {file_of[earlier.label]} 中的 "
                        f"{earlier.label} 近似重复（相似度 {ratio:.0%}，答案相同），请删去一道或改写")
    counts: dict[str, int] = {}
    files_of_category: dict[str, set[str]] = {}
    for record in records:
        counts[record.category] = counts.get(record.category, 0) + 1
        files_of_category.setdefault(record.category, set()).add(file_of[record.key])
    for category, count in sorted(counts.items()):
        if count < min_per_category:
            files = "、".join(sorted(files_of_category[category]))
            problems.append(f"{files}: 分类“{category}”只有 {count} 道题，至少需要 {min_per_category} 道")
    under_review = check_sources(directory, records, file_of, problems)
    return BankReport(records=records, counts=counts, problems=problems, under_review=under_review)


def check_sources(directory: str | Path, records: list[QuestionRecord], file_of: dict[str, str],
                  problems: list[str]) -> dict[str, list[str]]:
    """Fail questions citing a repealed document; return those citing one under review."""
    try:
        registry = read_registry(directory)
    except RegistryError as error:
        problems.append(str(error))
        return {}
    under_review: dict[str, list[str]] = {}
    for record in records:
        for document in cited_documents(record.source, registry):
            if document.status is DocumentStatus.REPEALED:
                problems.append(f"{file_of[record.key]}: {record.key}: 出处引用的《{document.title}》"
                                f"已废止（{document.note}），请改引现行依据")
            elif document.status is DocumentStatus.REVIEW:
                under_review.setdefault(document.title, []).append(record.key)
    return under_review


def load_bank(directory: str | Path, dry_run: bool = False) -> LoadSummary:
    """Upsert the bank into the database by question id; a changed question gets a new version."""
    records = read_bank(directory)
    summary = LoadSummary()
    for record in records:
        summary.categories[record.category] = summary.categories.get(record.category, 0) + 1
    existing = {q.key: q for q in db.session.scalars(db.select(Question))}
    imported = [record.key for record in records
                if record.key in existing and existing[record.key].origin != "bank"]
    if imported:  # the ZD- prefix rule keeps this from happening; never overwrite an import
        raise BankError([f"{key}: 与组织者导入的题目编号相同，题库文件请换一个 id" for key in imported])
    for record in records:
        question = existing.pop(record.key, None)
        if question is None:
            question = Question(key=record.key, category=record.category, qtype=record.qtype)
            db.session.add(question)
            add_version(question, record, number=1)
            summary.added += 1
        elif question.current_version is None or \
                question.current_version.content_hash != record.content_hash:
            question.category, question.qtype = record.category, record.qtype
            add_version(question, record, number=len(question.versions) + 1)
            summary.updated += 1
        else:
            summary.unchanged += 1
        question.is_retired = False
    for question in existing.values():
        if question.origin == "bank" and not question.is_retired:
            question.is_retired = True
            summary.retired += 1
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return summary


def add_version(question: Question, record: QuestionRecord, number: int) -> QuestionVersion:
    """Give the question a new immutable version and make it the current one."""
    version = QuestionVersion(
        question=question, version=number, difficulty=record.difficulty, stem=record.stem,
        options=record.options, answer=record.answer, explanation=record.explanation,
        source=record.source, content_hash=record.content_hash,
    )
    db.session.add(version)
    question.current_version = version
    return version


_add_version = add_version  # the name tests/factories.py imports
