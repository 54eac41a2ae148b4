"""Slogans, campaign themes, and scans of the units' poster links."""
import enum
from datetime import date

from sqlalchemy import Date, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quiz.extensions import UTCDateTime, db
from quiz.models.org import Organiser, Unit
from quiz.timeutil import utcnow


class CampaignTheme(db.Model):
    """The national theme of one year's Safety Production Month."""

    __tablename__ = "campaign_themes"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ordinal: Mapped[int]  # the n-th national Safety Production Month
    theme: Mapped[str] = mapped_column(String(100))


class SloganStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "approved": "已通过", "rejected": "未通过"}[self.value]


class Slogan(db.Model):
    """An official slogan, or one a member of the public submitted for moderation."""

    __tablename__ = "slogans"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(64), unique=True)
    is_official: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[SloganStatus] = mapped_column(
        Enum(SloganStatus, native_enum=False, length=16), default=SloganStatus.PENDING, index=True)
    author_name: Mapped[str | None] = mapped_column(String(20))  # shown masked
    author_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    device_key: Mapped[str | None] = mapped_column(String(43), index=True)
    submitted_day: Mapped[date | None] = mapped_column(Date)
    vote_count: Mapped[int] = mapped_column(default=0)
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id"))
    moderated_at: Mapped[UTCDateTime | None]
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    author_unit: Mapped[Unit | None] = relationship()
    moderated_by: Mapped[Organiser | None] = relationship()


class SloganVote(db.Model):
    """One person's vote for one approved slogan; the schema allows only one."""

    __tablename__ = "slogan_votes"
    __table_args__ = (UniqueConstraint("slogan_id", "device_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    slogan_id: Mapped[int] = mapped_column(ForeignKey("slogans.id"))
    device_key: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)


class LinkPurpose(enum.Enum):
    QUIZ = "quiz"
    REPORT = "report"

    @property
    def label(self) -> str:
        return "答题" if self is LinkPurpose.QUIZ else "隐患随手拍"


class LinkScan(db.Model):
    """How often a unit's poster link was opened on one day, per purpose."""

    __tablename__ = "link_scans"
    __table_args__ = (UniqueConstraint("unit_id", "purpose", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    purpose: Mapped[LinkPurpose] = mapped_column(Enum(LinkPurpose, native_enum=False, length=16))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(default=0)
