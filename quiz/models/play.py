"""Campaigns, the people who answer, their attempts, and the running totals."""
import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quiz.extensions import UTCDateTime, db
from quiz.question_content import QuestionContent, question_contents
from quiz.timeutil import utcnow

if TYPE_CHECKING:
    from quiz.models.bank import QuestionVersion
    from quiz.models.org import Unit


class ScoringMode(enum.Enum):
    BEST = "best"  # a person's best paper counts for the unit
    ACCUMULATE = "accumulate"  # every attempt's points add up, as in the national contest

    @property
    def label(self) -> str:
        return "取个人最高分" if self is ScoringMode.BEST else "每次答题累计积分"


class Campaign(db.Model):
    """One year's Safety Production Month, with the rules its papers follow."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    theme: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    consultation_day: Mapped[date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(default=False)
    # [{"type": "single"|"multiple"|"judge"|"any", "category": str|None, "count": n, "points": p}]
    paper_sections: Mapped[list] = mapped_column(JSON)
    time_limit_seconds: Mapped[int]
    attempts_per_day: Mapped[int]
    pass_mark: Mapped[int]
    scoring_mode: Mapped[ScoringMode] = mapped_column(
        Enum(ScoringMode, native_enum=False, length=16)
    )
    # Multiple choice: half the points when the choice is a correct but incomplete subset.
    partial_credit: Mapped[bool] = mapped_column(default=False)
    # Categories papers are drawn from; empty means the whole bank.
    categories: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    @property
    def question_count(self) -> int:
        return sum(section["count"] for section in self.paper_sections)

    @property
    def max_score(self) -> int:
        return sum(section["count"] * section["points"] for section in self.paper_sections)

    @property
    def time_limit_label(self) -> str:
        minutes, seconds = divmod(self.time_limit_seconds, 60)
        if minutes and seconds:
            return f"{minutes}分{seconds}秒"
        return f"{minutes}分钟" if minutes else f"{seconds}秒"


class Participant(db.Model):
    """A resident or employee who answers; recognised again by a token in their cookie."""

    __tablename__ = "participants"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)
    name: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(11))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    phone_consented_at: Mapped[UTCDateTime | None]
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    unit: Mapped["Unit"] = relationship(back_populates="participants")


class AttemptStatus(enum.Enum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Attempt(db.Model):
    """One paper drawn for one person, frozen at the start, graded once at the end."""

    __tablename__ = "attempts"
    # The daily limit lives in the schema: a person's n-th paper of a day is unique.
    __table_args__ = (UniqueConstraint("campaign_id", "participant_id", "day", "day_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    day_seq: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(
        Enum(AttemptStatus, native_enum=False, length=16), default=AttemptStatus.IN_PROGRESS
    )
    started_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)
    deadline_at: Mapped[UTCDateTime]
    submitted_at: Mapped[UTCDateTime | None]
    was_timed_out: Mapped[bool] = mapped_column(default=False)
    score: Mapped[int] = mapped_column(default=0)
    max_score: Mapped[int] = mapped_column(default=0)
    correct_count: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int | None]
    is_passed: Mapped[bool] = mapped_column(default=False)

    campaign: Mapped[Campaign] = relationship()
    participant: Mapped[Participant] = relationship()
    unit: Mapped["Unit"] = relationship()
    questions: Mapped[list["AttemptQuestion"]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position"
    )

    @property
    def is_submitted(self) -> bool:
        return self.status is AttemptStatus.SUBMITTED


class AttemptQuestion(db.Model):
    """A question as drawn into an attempt: its version, option order and the answer given."""

    __tablename__ = "attempt_questions"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    position: Mapped[int]
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id"), index=True)
    points: Mapped[int]
    option_order: Mapped[list] = mapped_column(JSON)  # option keys in the order shown
    chosen: Mapped[list | None] = mapped_column(JSON)  # option keys the person chose
    is_correct: Mapped[bool | None]
    points_awarded: Mapped[int] = mapped_column(default=0)

    attempt: Mapped[Attempt] = relationship(back_populates="questions")
    version: Mapped["QuestionVersion"] = relationship()

    @property
    def content(self) -> QuestionContent:
        """What the paper shows and grades, from memory: versions never change."""
        return question_contents([self.question_version_id])[self.question_version_id]


class ParticipantStanding(db.Model):
    """A person's running result in a campaign, updated in the submission's transaction."""

    __tablename__ = "participant_standings"
    __table_args__ = (
        UniqueConstraint("campaign_id", "participant_id"),
        Index("ix_participant_standings_rank", "campaign_id", "unit_id", "best_score"),
        # The individual leaderboards read their top rows straight off these indexes.
        Index("ix_participant_standings_top_points", "campaign_id", "points_total"),
        Index("ix_participant_standings_top_best", "campaign_id", "best_score",
              "best_duration_ms", "best_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    attempts_count: Mapped[int] = mapped_column(default=0)
    best_score: Mapped[int] = mapped_column(default=0)
    best_duration_ms: Mapped[int] = mapped_column(default=0)
    best_at: Mapped[UTCDateTime | None]
    points_total: Mapped[int] = mapped_column(default=0)
    # best_score as it was before the latest paper. The submission's upsert sets it as it
    # updates the best, so the unit's totals take their change from the row as the upsert
    # leaves it (on PostgreSQL, the row it returns) instead of reading it first (quiz.attempts).
    previous_best_score: Mapped[int] = mapped_column(default=0, server_default="0")

    participant: Mapped[Participant] = relationship()


class UnitTally(db.Model):
    """A unit's running totals in a campaign, so leaderboards never scan attempts."""

    __tablename__ = "unit_tallies"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    participants: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    best_score_sum: Mapped[int] = mapped_column(default=0)
    passed_participants: Mapped[int] = mapped_column(default=0)
    full_mark_participants: Mapped[int] = mapped_column(default=0)
    points_total: Mapped[int] = mapped_column(default=0)

    unit: Mapped["Unit"] = relationship()



class DailyTally(db.Model):
    """Attempts and first-time participants per day, for the participation chart."""

    __tablename__ = "daily_tallies"
    __table_args__ = (UniqueConstraint("campaign_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    day: Mapped[date] = mapped_column(Date)
    attempts: Mapped[int] = mapped_column(default=0)
    new_participants: Mapped[int] = mapped_column(default=0)
