"""What a paper shows and grades, per question version, kept in memory.

A version never changes once written (an edit writes a new one), so each worker reads a
version from the database once instead of on every page, save and submission.
"""
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from markupsafe import Markup, escape

from quiz.extensions import db

if TYPE_CHECKING:
    from quiz.models.bank import QuestionType

MAX_ENTRIES = 20_000  # far above any bank; a bound, so a runaway import cannot grow it forever


@dataclass(frozen=True)
class QuestionContent:
    version_id: int
    qtype: "QuestionType"
    stem: str
    option_texts: dict[str, str]  # by option key, in the bank's order
    answer: tuple[str, ...]  # sorted option keys
    option_html: dict[str, Markup]  # option_texts escaped once, for the paper page


def _cache() -> dict[int, QuestionContent]:
    # One per app: the test suite builds a new app and database, with the same ids, per test.
    return current_app.extensions.setdefault("question_contents", {})


def question_contents(version_ids) -> dict[int, QuestionContent]:
    """The contents of these versions, reading the ones not yet in memory in one query."""
    cache = _cache()
    found = {version_id: cache.get(version_id) for version_id in version_ids}
    missing = [version_id for version_id, content in found.items() if content is None]
    if missing:
        from quiz.models.bank import Question, QuestionVersion  # the models import this module

        if len(cache) + len(missing) > MAX_ENTRIES:
            cache.clear()
        rows = db.session.execute(
            db.select(QuestionVersion.id, Question.qtype, QuestionVersion.stem,
                      QuestionVersion.options, QuestionVersion.answer)
            .join(Question, Question.id == QuestionVersion.question_id)
            .where(QuestionVersion.id.in_(missing)))
        for version_id, qtype, stem, options, answer in rows:
            texts = {option["key"]: option["text"] for option in options}
            content = QuestionContent(version_id, qtype, stem, texts, tuple(answer),
                                      {key: escape(text) for key, text in texts.items()})
            cache[version_id] = found[version_id] = content
    return found
