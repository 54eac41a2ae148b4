"""Practice answers: what a person answered while studying, the source of the 错题本."""
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quiz.extensions import UTCDateTime, db
from quiz.timeutil import utcnow

if TYPE_CHECKING:
    from quiz.models.bank import QuestionVersion


class PracticeAnswer(db.Model):
    """One practice answer, never counted for scores, leaderboards or times_drawn.

    The phone's device key is always stored and the participant when the person has
    registered, so answers given before registering still belong to them afterwards.
    """

    __tablename__ = "practice_answers"
    __table_args__ = (
        # The 错题本 and the practice draw read one person's answers per question, newest last.
        Index("ix_practice_answers_participant", "participant_id", "question_id", "answered_at"),
        Index("ix_practice_answers_device", "device_key", "question_id", "answered_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    device_key: Mapped[str] = mapped_column(String(43))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"))
    option_order: Mapped[list] = mapped_column(JSON)  # option keys in the order shown
    chosen: Mapped[list] = mapped_column(JSON)  # option keys the person chose
    is_correct: Mapped[bool]
    answered_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    version: Mapped["QuestionVersion"] = relationship()
