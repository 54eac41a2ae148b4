"""Hazard reports (查找身边隐患): the case, its sealed reporter, its photos and its history."""
import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Enum, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quiz.extensions import UTCDateTime, db
from quiz.models.org import Organiser, Unit
from quiz.timeutil import local_day, utcnow


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=24)


class HazardCategory(enum.Enum):
    LIFE_PASSAGE = "life_passage"
    EBIKE = "ebike"
    GAS = "gas"
    ELECTRICAL = "electrical"
    CHEMICALS = "chemicals"
    CONSTRUCTION = "construction"
    SPECIAL_EQUIPMENT = "special_equipment"
    CONFINED_SPACE = "confined_space"
    ROAD = "road"
    OTHER = "other"

    @property
    def label(self) -> str:
        return HAZARD_CATEGORY_LABELS[self]


HAZARD_CATEGORY_LABELS = {
    HazardCategory.LIFE_PASSAGE: "堵塞占用消防通道/生命通道",
    HazardCategory.EBIKE: "电动自行车违规停放充电",
    HazardCategory.GAS: "燃气",
    HazardCategory.ELECTRICAL: "用电与电气线路",
    HazardCategory.CHEMICALS: "危险化学品",
    HazardCategory.CONSTRUCTION: "建筑施工",
    HazardCategory.SPECIAL_EQUIPMENT: "特种设备",
    HazardCategory.CONFINED_SPACE: "有限空间",
    HazardCategory.ROAD: "道路交通",
    HazardCategory.OTHER: "其他",
}


class ReportStatus(enum.Enum):
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    TRANSFERRED = "transferred"
    VERIFYING = "verifying"
    UNFOUNDED = "unfounded"
    RECTIFYING = "rectifying"
    AWAITING_REVIEW = "awaiting_review"
    RECTIFIED = "rectified"
    UNRESOLVED = "unresolved"

    @property
    def label(self) -> str:
        return {
            "submitted": "已提交待受理", "rejected": "不予受理", "duplicate": "重复举报",
            "transferred": "已转办", "verifying": "已受理核查中", "unfounded": "经核查不属实",
            "rectifying": "整改中", "awaiting_review": "整改完成待复核", "rectified": "已整改销号",
            "unresolved": "已办结未能整改",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES

    @property
    def is_verified(self) -> bool:
        """The hazard was found to be real (what the exposure board and rewards require)."""
        return self in VERIFIED_STATUSES


OPEN_STATUSES = frozenset({ReportStatus.SUBMITTED, ReportStatus.VERIFYING,
                           ReportStatus.RECTIFYING, ReportStatus.AWAITING_REVIEW})
VERIFIED_STATUSES = frozenset({ReportStatus.RECTIFYING, ReportStatus.AWAITING_REVIEW,
                               ReportStatus.RECTIFIED, ReportStatus.UNRESOLVED})


class HazardGrade(enum.Enum):
    GENERAL = "general"
    MAJOR = "major"

    @property
    def label(self) -> str:
        return "重大隐患" if self is HazardGrade.MAJOR else "一般隐患"


class ReportChannel(enum.Enum):
    ONLINE = "online"
    HOTLINE = "hotline"
    PAPER = "paper"
    API = "api"

    @property
    def label(self) -> str:
        return {"online": "网上举报", "hotline": "12350热线", "paper": "纸质或来访",
                "api": "外部系统"}[self.value]


class RewardStatus(enum.Enum):
    NONE = "none"
    ELIGIBLE = "eligible"
    APPROVED = "approved"
    NOTIFIED = "notified"
    PAID = "paid"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {"none": "不涉及", "eligible": "符合奖励条件", "approved": "奖励已批准",
                "notified": "已通知领取", "paid": "奖励已发放", "expired": "逾期未领取"}[self.value]


class HazardReport(db.Model):
    """One reported hazard. Nothing here identifies the reporter: see ReporterIdentity."""

    __tablename__ = "hazard_reports"
    __table_args__ = (Index("ix_hazard_reports_queue", "status", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    # Chosen by the form when it is rendered: a repeated submission finds the first one.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[ReportChannel] = mapped_column(_enum(ReportChannel), default=ReportChannel.ONLINE)
    category: Mapped[HazardCategory] = mapped_column(_enum(HazardCategory), index=True)
    place: Mapped[str] = mapped_column(String(120))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    description: Mapped[str] = mapped_column(Text)
    # The unit where the hazard is (chosen by the reporter or the poster's unit).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # The unit that verifies and rectifies it, once accepted.
    assigned_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.SUBMITTED)
    grade: Mapped[HazardGrade | None] = mapped_column(_enum(HazardGrade))
    transferred_to: Mapped[str | None] = mapped_column(String(40))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_reports.id"))
    due_on: Mapped[date] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(String(200))
    is_anonymous: Mapped[bool] = mapped_column(default=True)
    allows_publication: Mapped[bool] = mapped_column(default=False)
    # Set by a district administrator: the redacted text the exposure board shows.
    published_at: Mapped[UTCDateTime | None]
    public_description: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[UTCDateTime | None]
    disputed_at: Mapped[UTCDateTime | None]
    reward_status: Mapped[RewardStatus] = mapped_column(_enum(RewardStatus), default=RewardStatus.NONE)
    fine_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    reward_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    reward_claimed_at: Mapped[UTCDateTime | None]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id"))
    submitted_at: Mapped[UTCDateTime] = mapped_column(default=utcnow, index=True)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    assigned_unit: Mapped[Unit | None] = relationship(foreign_keys=[assigned_unit_id])
    duplicate_of: Mapped["HazardReport | None"] = relationship(remote_side=[id])
    entered_by: Mapped[Organiser | None] = relationship()
    events: Mapped[list["ReportEvent"]] = relationship(
        back_populates="report", order_by="ReportEvent.id")
    photos: Mapped[list["ReportPhoto"]] = relationship(
        back_populates="report", order_by="ReportPhoto.id")

    @property
    def is_overdue(self) -> bool:
        return self.status.is_open and local_day(utcnow()) > self.due_on

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def photos_of(self, kind: "PhotoKind") -> list["ReportPhoto"]:
        return [photo for photo in self.photos if photo.kind is kind]


class ReporterIdentity(db.Model):
    """The reporter's name and phone, kept apart from the case; every read is logged."""

    __tablename__ = "reporter_identities"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id"), unique=True)
    name: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    # An anonymous reporter leaves a phone only when claiming a reward.
    claim_phone: Mapped[str | None] = mapped_column(String(20))


class IdentityAccessLog(db.Model):
    """Who read a reporter's identity, when and why."""

    __tablename__ = "identity_access_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id"), index=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id"))
    reason: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    organiser: Mapped[Organiser] = relationship()


class ReportEvent(db.Model):
    """One step of a case: a transition, an extension, a publication, a reward step."""

    __tablename__ = "report_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id"))  # None: the reporter
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[ReportStatus | None] = mapped_column(_enum(ReportStatus))
    to_status: Mapped[ReportStatus | None] = mapped_column(_enum(ReportStatus))
    reason: Mapped[str | None] = mapped_column(String(200))
    public_note: Mapped[str | None] = mapped_column(Text)
    private_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    report: Mapped[HazardReport] = relationship(back_populates="events")
    actor: Mapped[Organiser | None] = relationship()


class PhotoKind(enum.Enum):
    BEFORE = "before"  # sent with the report
    AFTER = "after"  # the rectification, sent by the organiser


class ReportPhoto(db.Model):
    """A re-encoded photo without metadata. Uploaded before the report exists, then attached."""

    __tablename__ = "report_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_reports.id"), index=True)
    kind: Mapped[PhotoKind] = mapped_column(_enum(PhotoKind), default=PhotoKind.BEFORE)
    uploader_key: Mapped[str] = mapped_column(String(64))  # the phone or organiser that sent it
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    uploaded_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    report: Mapped[HazardReport | None] = relationship(back_populates="photos")
