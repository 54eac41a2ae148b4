"""The rules of a hazard report's life: who may move it where, with what, and what it leaves behind.

Every change goes through this module, records a ReportEvent (who, when, from, to, reason, public
note, private note) and refuses anything the workflow does not allow with a Chinese message.
"""
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from quiz.extensions import db
from quiz.models import Organiser, Unit
from quiz.models.report import (
    HazardCategory,
    HazardGrade,
    OPEN_STATUSES,
    HazardReport,
    IdentityAccessLog,
    PhotoKind,
    ReportChannel,
    ReportEvent,
    ReporterIdentity,
    ReportPhoto,
    ReportStatus,
    RewardStatus,
)
from quiz.timeutil import as_utc, local_day, utcnow

S = ReportStatus
TRANSITIONS: dict[ReportStatus, set[ReportStatus]] = {
    S.SUBMITTED: {S.REJECTED, S.DUPLICATE, S.TRANSFERRED, S.VERIFYING},
    S.VERIFYING: {S.UNFOUNDED, S.RECTIFYING, S.UNRESOLVED},
    S.RECTIFYING: {S.AWAITING_REVIEW, S.UNRESOLVED},
    S.AWAITING_REVIEW: {S.RECTIFIED, S.RECTIFYING},
}
# Triage and the final review are the district's; units verify and rectify their own cases.
ADMIN_ONLY_FROM = {S.SUBMITTED, S.AWAITING_REVIEW}
CLOSED = {S.REJECTED, S.DUPLICATE, S.TRANSFERRED, S.UNFOUNDED, S.RECTIFIED, S.UNRESOLVED}
DISPUTABLE = {S.REJECTED, S.UNFOUNDED, S.RECTIFIED, S.UNRESOLVED}
REASON_REQUIRED = {S.REJECTED, S.UNFOUNDED, S.UNRESOLVED}
TRANSFER_TARGETS = ("消防救援机构", "住房城乡建设部门", "燃气主管部门", "城市管理部门",
                    "市场监管部门（特种设备）", "公安交管部门", "应急管理部门", "12345政务服务热线")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone
CODE_LENGTH = 10  # 31**10 ≈ 8e14: not guessable at the lookup rate limit
MAX_PHOTOS = 3
ATTACHED = "attached"


class WorkflowRefused(ValueError):
    """The change is not allowed; the message says why, in Chinese."""


@dataclass
class NewReport:
    category: HazardCategory
    place: str
    description: str
    unit: Unit | None = None
    latitude: float | None = None
    longitude: float | None = None
    name: str = ""
    phone: str = ""
    allows_publication: bool = False
    channel: ReportChannel = ReportChannel.ONLINE
    entered_by: Organiser | None = None


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person types (lower case, spaces, dashes) back into a stored code."""
    return "".join(char for char in text.upper() if char.isalnum())[:CODE_LENGTH * 2]


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def find_by_code(text: str) -> HazardReport | None:
    code = normalise_code(text)
    if len(code) != CODE_LENGTH:
        return None
    return db.session.scalar(db.select(HazardReport).filter_by(tracking_code=code))


def submit_report(new: NewReport, submission_key: str, photo_tokens: list[str],
                  uploader_key: str) -> tuple[HazardReport, bool]:
    """Create the report once; the same submission_key again returns the first (created=False)."""
    existing = db.session.scalar(db.select(HazardReport).filter_by(submission_key=submission_key))
    if existing is not None:
        return existing, False
    photos = claimable_photos(photo_tokens, uploader_key)
    today = local_day(utcnow())
    report = HazardReport(
        tracking_code=new_tracking_code(), submission_key=submission_key, channel=new.channel,
        category=new.category, place=new.place, description=new.description, unit=new.unit,
        latitude=new.latitude, longitude=new.longitude,
        is_anonymous=not (new.name or new.phone), allows_publication=new.allows_publication,
        due_on=today + timedelta(days=current_app.config["REPORT_HANDLING_DAYS"]),
        entered_by=new.entered_by)
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:  # the same form sent twice at the same moment: the first one won
        db.session.rollback()
        existing = db.session.scalar(db.select(HazardReport).filter_by(submission_key=submission_key))
        if existing is None:
            raise
        return existing, False
    if not report.is_anonymous:
        db.session.add(ReporterIdentity(report_id=report.id, name=new.name or None,
                                        phone=new.phone or None))
    for photo in photos:
        photo.report = report
        photo.uploader_key = ATTACHED  # the phone's key would link the case to its other activity
    _record(report, new.entered_by, "submit", None, S.SUBMITTED,
            public_note=None, private_note=f"代为登记（{new.channel.label}）" if new.entered_by else None)
    db.session.commit()
    return report, True


def claimable_photos(tokens: list[str], uploader_key: str, kind: PhotoKind = PhotoKind.BEFORE,
                     limit: int = MAX_PHOTOS) -> list[ReportPhoto]:
    """The uploads this phone (or organiser) sent that no report has taken yet."""
    tokens = list(dict.fromkeys(token for token in tokens if token))[:limit]
    if not tokens:
        return []
    photos = db.session.scalars(db.select(ReportPhoto).where(
        ReportPhoto.token.in_(tokens), ReportPhoto.report_id.is_(None),
        ReportPhoto.uploader_key == uploader_key, ReportPhoto.kind == kind)).all()
    return sorted(photos, key=lambda photo: tokens.index(photo.token))


def _record(report: HazardReport, actor: Organiser | None, action: str,
            from_status: ReportStatus | None, to_status: ReportStatus | None, reason: str | None = None,
            public_note: str | None = None, private_note: str | None = None) -> ReportEvent:
    event = ReportEvent(report=report, actor=actor, action=action, from_status=from_status,
                        to_status=to_status, reason=reason or None, public_note=public_note or None,
                        private_note=private_note or None)
    db.session.add(event)
    return event


def may_handle(organiser: Organiser, report: HazardReport, visible_units: set[int] | None) -> bool:
    """Whether the organiser sees this case at all (None: an administrator, every case)."""
    if organiser.is_admin or visible_units is None:
        return True
    return report.unit_id in visible_units or report.assigned_unit_id in visible_units


def allowed_targets(report: HazardReport, organiser: Organiser) -> list[ReportStatus]:
    if report.status in ADMIN_ONLY_FROM and not organiser.is_admin:
        return []
    return sorted(TRANSITIONS.get(report.status, set()), key=lambda status: list(S).index(status))


def transition(report: HazardReport, to: ReportStatus, actor: Organiser, *, reason: str = "",
               public_note: str = "", private_note: str = "", assigned_unit: Unit | None = None,
               grade: HazardGrade | None = None, due_on=None, transferred_to: str = "",
               duplicate_of: HazardReport | None = None, after_photo_tokens: list[str] = ()) -> None:
    """Move a case to another state, checking the workflow, the actor and the required fields."""
    origin = report.status
    if to not in TRANSITIONS.get(origin, set()):
        raise WorkflowRefused(f"“{origin.label}”的案件不能转为“{to.label}”。")
    if origin in ADMIN_ONLY_FROM and not actor.is_admin:
        raise WorkflowRefused("受理和复核由区级管理员办理。")
    if to in REASON_REQUIRED and not reason.strip():
        raise WorkflowRefused(f"转为“{to.label}”需要填写理由。")
    if origin is S.AWAITING_REVIEW and to is S.RECTIFYING and not reason.strip():
        raise WorkflowRefused("退回整改需要填写理由。")
    if to is S.DUPLICATE:
        if duplicate_of is None or duplicate_of.id == report.id:
            raise WorkflowRefused("请填写与之重复的原案件编号。")
        while duplicate_of.duplicate_of is not None:  # follow to the first report of the hazard
            duplicate_of = duplicate_of.duplicate_of
        if duplicate_of.id == report.id:
            raise WorkflowRefused("不能把案件标记为与自己重复。")
        report.duplicate_of = duplicate_of
    if to is S.TRANSFERRED:
        if not transferred_to.strip():
            raise WorkflowRefused("请选择转办的部门。")
        report.transferred_to = transferred_to.strip()[:40]
    if to is S.VERIFYING:
        if assigned_unit is None or grade is None:
            raise WorkflowRefused("受理时请指定核查单位和隐患等级。")
        report.assigned_unit, report.grade = assigned_unit, grade
        if due_on is not None:
            if due_on < local_day(utcnow()) or due_on > report.due_on:
                raise WorkflowRefused(f"整改期限应在今天到{report.due_on:%Y-%m-%d}之间。")
            report.due_on = due_on
    if to is S.RECTIFYING and grade is not None:
        report.grade = grade
    if to is S.AWAITING_REVIEW:
        photos = claimable_photos(list(after_photo_tokens), f"organiser:{actor.id}", PhotoKind.AFTER)
        if not photos or not public_note.strip():
            raise WorkflowRefused("提交复核需要整改后的照片和整改说明。")
        for photo in photos:
            photo.report = report
            photo.uploader_key = ATTACHED
    report.status = to
    report.closed_at = utcnow() if to in CLOSED else None
    if to is S.RECTIFYING and report.reward_status is RewardStatus.NONE and report.duplicate_of_id is None:
        report.reward_status = RewardStatus.ELIGIBLE  # verified and the first report of it
    _record(report, actor, "transition", origin, to, reason, public_note, private_note)


def reassign(report: HazardReport, actor: Organiser, unit: Unit) -> None:
    """Give an accepted, open case to another unit (the district decides)."""
    if not actor.is_admin:
        raise WorkflowRefused("改派由区级管理员办理。")
    if not report.status.is_open or report.status is S.SUBMITTED:
        raise WorkflowRefused("只能为已受理、未办结的案件改派核查单位。")
    previous = report.assigned_unit.path_name if report.assigned_unit else "无"
    report.assigned_unit = unit
    _record(report, actor, "assign", report.status, report.status,
            private_note=f"核查单位由“{previous}”改派为“{unit.path_name}”")


def extend(report: HazardReport, actor: Organiser, days: int, reason: str) -> None:
    """One extension of the handling limit, with a reason the reporter sees."""
    if not report.status.is_open:
        raise WorkflowRefused("已办结的案件不能延期。")
    if report.extension_reason:
        raise WorkflowRefused("每个案件只能延期一次。")
    limit = current_app.config["REPORT_MAX_EXTENSION_DAYS"]
    if not 1 <= days <= limit:
        raise WorkflowRefused(f"延期天数应为1到{limit}天。")
    if not reason.strip():
        raise WorkflowRefused("延期需要填写理由，举报人可以看到。")
    report.due_on = report.due_on + timedelta(days=days)
    report.extension_reason = reason.strip()[:200]
    _record(report, actor, "extend", report.status, report.status, reason,
            public_note=f"办理期限延长{days}天，至{report.due_on:%Y-%m-%d}。理由：{reason.strip()}")


def dispute_deadline(report: HazardReport):
    if report.closed_at is None:
        return None
    return local_day(report.closed_at) + timedelta(days=current_app.config["REPORT_DISPUTE_DAYS"])


def can_dispute(report: HazardReport) -> bool:
    deadline = dispute_deadline(report)
    return (report.status in DISPUTABLE and report.disputed_at is None and deadline is not None
            and local_day(utcnow()) <= deadline)


def dispute(report: HazardReport, reason: str) -> None:
    """The reporter contests a closure once, within the window; the case reopens."""
    if not can_dispute(report):
        raise WorkflowRefused("这个案件现在不能申请复查（只能在办结后规定天数内申请一次）。")
    if not reason.strip():
        raise WorkflowRefused("请写明不同意办理结果的理由。")
    origin = report.status
    report.status = S.SUBMITTED if origin is S.REJECTED else S.VERIFYING
    report.disputed_at, report.closed_at = utcnow(), None
    _record(report, None, "dispute", origin, report.status, reason.strip()[:200],
            public_note="举报人对办理结果提出异议，案件已重新打开。")


def publish(report: HazardReport, actor: Organiser, public_description: str) -> None:
    """Show the case, redacted, on the exposure board: only if verified and the reporter allowed it."""
    if not actor.is_admin:
        raise WorkflowRefused("曝光由区级管理员审核。")
    if not report.allows_publication:
        raise WorkflowRefused("举报人没有同意公开这个案件。")
    if not report.status.is_verified:
        raise WorkflowRefused("只有经核查属实的案件才能曝光。")
    if not public_description.strip():
        raise WorkflowRefused("请填写去除个人信息后的公开描述。")
    report.public_description = public_description.strip()
    report.published_at = utcnow()
    _record(report, actor, "publish", report.status, report.status, private_note="同意在曝光台公开")


def unpublish(report: HazardReport, actor: Organiser) -> None:
    if not actor.is_admin:
        raise WorkflowRefused("曝光由区级管理员审核。")
    report.published_at = None
    _record(report, actor, "unpublish", report.status, report.status, private_note="撤下曝光")


def reward_amount(report: HazardReport) -> Decimal:
    """The amount the configured rule gives: a share of the fine for a major hazard, else flat."""
    config = current_app.config
    if report.grade is HazardGrade.MAJOR:
        if report.fine_yuan is None:
            raise WorkflowRefused("重大隐患的奖励按罚没款计算，请先填写罚款金额。")
        share = Decimal(str(report.fine_yuan)) * Decimal(str(config["REWARD_MAJOR_RATE"]))
        share = max(Decimal(config["REWARD_MAJOR_MIN_YUAN"]), min(Decimal(config["REWARD_MAJOR_MAX_YUAN"]), share))
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Decimal(config["REWARD_GENERAL_YUAN"]).quantize(Decimal("0.01"))


REWARD_STEPS = {  # action: (from, to)
    "approve": (RewardStatus.ELIGIBLE, RewardStatus.APPROVED),
    "notify": (RewardStatus.APPROVED, RewardStatus.NOTIFIED),
    "pay": (RewardStatus.NOTIFIED, RewardStatus.PAID),
    "expire": (RewardStatus.NOTIFIED, RewardStatus.EXPIRED),
}


def reward_step(report: HazardReport, actor: Organiser, action: str, fine_yuan: Decimal | None = None,
                note: str = "") -> None:
    """Move the reward sub-workflow one step (district administrators only)."""
    if not actor.is_admin:
        raise WorkflowRefused("举报奖励由区级管理员办理。")
    if action not in REWARD_STEPS:
        raise WorkflowRefused("未知的奖励操作。")
    origin, target = REWARD_STEPS[action]
    if report.reward_status is not origin:
        raise WorkflowRefused(f"奖励状态为“{report.reward_status.label}”，不能执行这个操作。")
    if action == "approve":
        if not report.status.is_verified:
            raise WorkflowRefused("只有经核查属实的案件才能奖励。")
        if fine_yuan is not None:
            report.fine_yuan = fine_yuan
        report.reward_yuan = reward_amount(report)
    if action == "pay" and report.reward_claimed_at is None:
        raise WorkflowRefused("举报人还没有申领奖励。")
    if action == "expire" and not reward_claim_expired(report):
        raise WorkflowRefused("申领期限还没有过。")
    report.reward_status = target
    public = {"approve": None, "notify": f"您的举报经核查属实，可申领奖励{report.reward_yuan}元，"
              f"请在{current_app.config['REWARD_CLAIM_DAYS']}天内凭查询码申领。",
              "pay": "奖励已发放。", "expire": "奖励逾期未申领。"}[action]
    _record(report, actor, f"reward_{action}", report.status, report.status,
            public_note=public, private_note=note)


def reward_claim_expired(report: HazardReport) -> bool:
    notified = next((event.created_at for event in reversed(report.events)
                     if event.action == "reward_notify"), None)
    if notified is None:
        return False
    return utcnow() > as_utc(notified) + timedelta(days=current_app.config["REWARD_CLAIM_DAYS"])


def claim_reward(report: HazardReport, phone: str) -> None:
    """The reporter claims with the tracking code; an anonymous one leaves a phone to be paid on."""
    if report.reward_status is not RewardStatus.NOTIFIED or reward_claim_expired(report):
        raise WorkflowRefused("这个案件现在没有可申领的奖励。")
    if report.reward_claimed_at is not None:
        raise WorkflowRefused("奖励已经申领，请等待工作人员联系。")
    identity = db.session.scalar(db.select(ReporterIdentity).filter_by(report_id=report.id))
    if identity is None:
        identity = ReporterIdentity(report_id=report.id)
        db.session.add(identity)
    if not (identity.phone or phone):
        raise WorkflowRefused("匿名举报申领奖励，请留下手机号码以便联系。")
    if phone:
        identity.claim_phone = phone
    report.reward_claimed_at = utcnow()
    _record(report, None, "reward_claim", report.status, report.status,
            public_note="已申领奖励，工作人员将与您联系。")


def read_identity(report: HazardReport, actor: Organiser, reason: str) -> ReporterIdentity | None:
    """The sealed identity, for an administrator who handles reports; the read is logged first."""
    if not actor.may_read_reporters:
        raise WorkflowRefused("只有负责举报办理的区级管理员可以查看举报人信息。")
    if len(reason.strip()) < 4:
        raise WorkflowRefused("请写明查看举报人信息的理由。")
    db.session.add(IdentityAccessLog(report_id=report.id, organiser_id=actor.id, reason=reason.strip()[:200]))
    db.session.commit()
    return db.session.scalar(db.select(ReporterIdentity).filter_by(report_id=report.id))


def followed_report(report: HazardReport) -> HazardReport:
    """A duplicate's reporter follows the original."""
    return report.duplicate_of if report.status is S.DUPLICATE and report.duplicate_of else report


def public_events(report: HazardReport) -> list[ReportEvent]:
    """What the reporter may see: states, dates and public notes; never private notes or names."""
    return [event for event in report.events if event.public_note or event.to_status != event.from_status]


def cases_visible_to(unit_ids: set[int] | None):
    """A query of the cases a set of units may see (None: every case)."""
    query = db.select(HazardReport)
    if unit_ids is not None:
        query = query.where(HazardReport.unit_id.in_(unit_ids) | HazardReport.assigned_unit_id.in_(unit_ids))
    return query


def report_counts(unit_ids: set[int] | None) -> dict[str, list[tuple[str, int, dict]]]:
    """Counts by status, category and grade, and the overdue ones: (label, count, queue filter)."""
    scope = cases_visible_to(unit_ids).subquery()
    counts = {}
    for title, name, column, members in (("状态", "status", scope.c.status, ReportStatus),
                                         ("类别", "category", scope.c.category, HazardCategory),
                                         ("等级", "grade", scope.c.grade, HazardGrade)):
        found = dict(db.session.execute(db.select(column, func.count()).group_by(column)).all())
        counts[title] = [(member.label, found.get(member, 0), {name: member.value}) for member in members]
    overdue = db.session.scalar(db.select(func.count()).select_from(scope).where(
        scope.c.status.in_(OPEN_STATUSES), scope.c.due_on < local_day(utcnow())))
    counts["超期"] = [("超期未办结", overdue or 0, {"overdue": "y"})]
    return counts
