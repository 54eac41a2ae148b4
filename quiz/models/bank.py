"""The question bank: a stable question and its immutable versions."""
import enum

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quiz.extensions import UTCDateTime, db
from quiz.timeutil import utcnow


class QuestionType(enum.Enum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    JUDGE = "judge"

    @property
    def label(self) -> str:
        return {"single": "单选题", "multiple": "多选题", "judge": "判断题"}[self.value]


class Question(db.Model):
    """A question with a stable key (e.g. XF-001); its text lives in versions."""

    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    qtype: Mapped[QuestionType] = mapped_column(Enum(QuestionType, native_enum=False, length=16))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    origin: Mapped[str] = mapped_column(String(16), default="bank")  # bank files or an import
    # Removed from the bank files: no longer drawn, kept for the attempts that used it.
    is_retired: Mapped[bool] = mapped_column(default=False)
    times_drawn: Mapped[int] = mapped_column(default=0)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_versions.id", use_alter=True)
    )
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    current_version: Mapped["QuestionVersion | None"] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list["QuestionVersion"]] = relationship(
        back_populates="question",
        foreign_keys="QuestionVersion.question_id",
        order_by="QuestionVersion.version",
    )


class QuestionVersion(db.Model):
    """One immutable wording of a question; attempts point here, so results never change."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    version: Mapped[int]
    difficulty: Mapped[int] = mapped_column(default=1)
    stem: Mapped[str] = mapped_column(Text)
    # [{"key": "A", "text": "..."}, ...]; judge questions use keys T and F.
    options: Mapped[list] = mapped_column(JSON)
    answer: Mapped[list] = mapped_column(JSON)  # sorted option keys
    explanation: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship(back_populates="versions", foreign_keys=[question_id])

    def option_text(self, key: str) -> str:
        return next(option["text"] for option in self.options if option["key"] == key)
