"""Units (the organisations that take part) and the organisers who run them."""
import enum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from quiz.extensions import UTCDateTime, db, login_manager
from quiz.timeutil import utcnow

if TYPE_CHECKING:
    from quiz.models.play import Participant


class UnitKind(enum.Enum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    DEPARTMENT = "department"
    ENTERPRISE = "enterprise"
    SCHOOL = "school"
    OTHER = "other"

    @property
    def label(self) -> str:
        return UNIT_KIND_LABELS[self]


UNIT_KIND_LABELS = {
    UnitKind.DISTRICT: "区",
    UnitKind.STREET: "街道",
    UnitKind.COMMUNITY: "社区",
    UnitKind.DEPARTMENT: "部门",
    UnitKind.ENTERPRISE: "企业",
    UnitKind.SCHOOL: "学校",
    UnitKind.OTHER: "其他",
}


class Unit(db.Model):
    """A district, street, community, department, enterprise or school."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    headcount: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)
    # 联络员 (liaison) details, as the notices' 联络员推荐表 asks for them.
    liaison_name: Mapped[str | None] = mapped_column(String(20))
    liaison_gender: Mapped[str | None] = mapped_column(String(4))
    liaison_title: Mapped[str | None] = mapped_column(String(40))
    liaison_office_phone: Mapped[str | None] = mapped_column(String(30))
    liaison_mobile: Mapped[str | None] = mapped_column(String(20))
    liaison_fax: Mapped[str | None] = mapped_column(String(30))
    liaison_qq: Mapped[str | None] = mapped_column(String(20))
    liaison_wechat: Mapped[str | None] = mapped_column(String(40))
    liaison_email: Mapped[str | None] = mapped_column(String(120))
    liaison_address: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.code")
    participants: Mapped[list["Participant"]] = relationship(back_populates="unit")

    @property
    def path_name(self) -> str:
        """The name with its parent below district level, e.g. 东街街道 · 东门社区."""
        if self.parent is not None and self.parent.kind is not UnitKind.DISTRICT:
            return f"{self.parent.name} · {self.name}"
        return self.name


class OrganiserRole(enum.Enum):
    ADMIN = "admin"
    UNIT = "unit"

    @property
    def label(self) -> str:
        return "区级管理员" if self is OrganiserRole.ADMIN else "单位组织者"


class Organiser(UserMixin, db.Model):
    """A person who logs in to the console: district administrator or unit organiser."""

    __tablename__ = "organisers"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[OrganiserRole] = mapped_column(
        Enum(OrganiserRole, native_enum=False, length=16), default=OrganiserRole.UNIT
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # An administrator who handles hazard reports may read a reporter's identity (logged).
    handles_reports: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[UTCDateTime] = mapped_column(default=utcnow)

    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # flask-login refuses disabled accounts
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return self.role is OrganiserRole.ADMIN

    @property
    def may_read_reporters(self) -> bool:
        return self.is_admin and self.handles_reports


@login_manager.user_loader
def load_organiser(organiser_id: str) -> Organiser | None:
    """The logged-in organiser; a disabled account is logged out at its next request."""
    organiser = db.session.get(Organiser, int(organiser_id)) if organiser_id.isdigit() else None
    return organiser if organiser is not None and organiser.is_enabled else None
