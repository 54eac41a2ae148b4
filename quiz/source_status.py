"""The standing of the laws and standards that questions cite (questions/_documents.yaml).

When a law is replaced, every question citing it has to be re-checked article by article.
The registry names such documents once; the bank check and the console then find every
question that cites them, instead of someone searching the files by hand.
"""
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import yaml
from flask import current_app

DOCUMENTS_FILE = "_documents.yaml"
CITED_TITLE = re.compile(r"《([^《》]+)》")


class DocumentStatus(Enum):
    CURRENT = "current"
    REVIEW = "review"  # superseded in part or in doubt: cite it only after checking
    REPEALED = "repealed"

    @property
    def label(self) -> str:
        return {"current": "现行", "review": "待复核", "repealed": "已废止"}[self.value]


@dataclass(frozen=True)
class SourceDocument:
    title: str
    status: DocumentStatus
    note: str


class RegistryError(Exception):
    """The registry file is malformed; the message says where."""


def read_registry(directory: str | Path) -> dict[str, SourceDocument]:
    """The documents by title; an empty registry when the bank has no such file."""
    path = Path(directory) / DOCUMENTS_FILE
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise RegistryError(f"{DOCUMENTS_FILE}: 无法解析: {error}") from error
    entries = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{DOCUMENTS_FILE}: 应包含 documents（文件列表）")
    registry: dict[str, SourceDocument] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{DOCUMENTS_FILE}: 第{index}项"
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) \
                or not entry["title"].strip():
            raise RegistryError(f"{where}: 缺少 title（文件名称，不带书名号）")
        title = entry["title"].strip().strip("《》")
        try:
            status = DocumentStatus(entry.get("status"))
        except ValueError:
            raise RegistryError(f"{where}: status 应为 current、review 或 repealed") from None
        note = entry.get("note") or ""
        if status is not DocumentStatus.CURRENT and not str(note).strip():
            raise RegistryError(f"{where}: {status.label}的文件要写 note，说明原因和核对办法")
        if title in registry:
            raise RegistryError(f"{where}: 《{title}》重复")
        registry[title] = SourceDocument(title=title, status=status, note=str(note).strip())
    return registry


def app_registry() -> dict[str, SourceDocument]:
    """The registry of the app's bank; empty when malformed (`flask bank check` names the problem,
    and the console and imports go on without it rather than fail)."""
    try:
        return read_registry(current_app.config["QUESTION_BANK_DIR"])
    except RegistryError:
        return {}


def cited_documents(source: str, registry: dict[str, SourceDocument],
                    status: DocumentStatus | None = None) -> list[SourceDocument]:
    """The registered documents (of one status, if given) a question's 出处 cites, in order."""
    found = []
    for title in CITED_TITLE.findall(source):
        document = registry.get(title.strip())
        if document is not None and document not in found \
                and (status is None or document.status is status):
            found.append(document)
    return found


def titles_with_status(registry: dict[str, SourceDocument], status: DocumentStatus) -> list[str]:
    return [document.title for document in registry.values() if document.status is status]
