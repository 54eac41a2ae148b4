"""Slogan rules: the official set, the slogan of the day, submissions, moderation and votes."""
import re
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy.exc import IntegrityError

from quiz.extensions import db
from quiz.models import CampaignTheme, Organiser, Slogan, SloganStatus, SloganVote, Unit
from quiz.timeutil import utcnow

OFFICIAL_DATA = Path(__file__).parent / "data" / "official.yaml"
SUBMISSIONS_PER_DAY = 3
MIN_LENGTH, MAX_LENGTH = 6, 32


class SloganRefused(Exception):
    """A submission or vote the rules do not allow; the message is for the person."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def normalise_slogan(text: str) -> str:
    """Trim and collapse runs of spaces, so that the same slogan cannot be sent twice."""
    return re.sub(r"\s+", " ", text).strip()


def seed_official() -> tuple[int, int]:
    """Load the national themes and the 2020 official slogans; return how many were new."""
    data = yaml.safe_load(OFFICIAL_DATA.read_text(encoding="utf-8"))
    known_years = set(db.session.scalars(db.select(CampaignTheme.year)))
    themes = 0
    for item in data["themes"]:
        if item["year"] not in known_years:
            db.session.add(CampaignTheme(**item))
            themes += 1
    known_texts = set(db.session.scalars(db.select(Slogan.text)))
    source = data["slogans_2020"]["source"]
    slogans = 0
    for text in data["slogans_2020"]["items"]:
        if text not in known_texts:
            db.session.add(Slogan(text=text, is_official=True, source=source,
                                  status=SloganStatus.APPROVED))
            slogans += 1
    return themes, slogans


def slogan_of_the_day(day: date) -> Slogan | None:
    """One approved slogan per day, taking turns through the official and approved ones.

    Campaign-specific slogans such as 「深入开展第19个…」 name one year, so they are skipped.
    """
    slogans = [s for s in db.session.scalars(
        db.select(Slogan).where(Slogan.status == SloganStatus.APPROVED).order_by(Slogan.id))
        if "第19个" not in s.text]
    if not slogans:
        return None
    return slogans[day.toordinal() % len(slogans)]


def submit_slogan(text: str, author_name: str | None, unit: Unit | None, device: str,
                  today: date) -> Slogan:
    """Store a public submission for moderation, within the daily limit per phone."""
    text = normalise_slogan(text)
    submitted_today = db.session.scalar(db.select(db.func.count(Slogan.id)).where(
        Slogan.device_key == device, Slogan.submitted_day == today))
    if submitted_today >= SUBMISSIONS_PER_DAY:
        raise SloganRefused(f"每人每天最多投稿 {SUBMISSIONS_PER_DAY} 条，明天再来吧。", status=429)
    if db.session.scalar(db.select(Slogan.id).where(Slogan.text == text)):
        raise SloganRefused("已经有人投过这条标语了，换个说法试试。")
    slogan = Slogan(text=text, author_name=author_name or None,
                    author_unit_id=unit.id if unit else None, device_key=device,
                    submitted_day=today, status=SloganStatus.PENDING)
    db.session.add(slogan)
    try:
        db.session.commit()
    except IntegrityError:  # the same text arrived a moment ago
        db.session.rollback()
        raise SloganRefused("已经有人投过这条标语了，换个说法试试。") from None
    return slogan


def moderate(slogan: Slogan, organiser: Organiser, approve: bool, reason: str | None = None):
    """Approve or reject a public submission; official slogans are not moderated."""
    if slogan.is_official:
        raise SloganRefused("官方标语无需审核。")
    slogan.status = SloganStatus.APPROVED if approve else SloganStatus.REJECTED
    slogan.reject_reason = None if approve else (reason or None)
    slogan.moderated_by_id = organiser.id
    slogan.moderated_at = utcnow()
    db.session.commit()


def vote(slogan: Slogan, device: str) -> bool:
    """Count one vote per phone per approved public slogan; False if this phone already voted."""
    if slogan.status is not SloganStatus.APPROVED or slogan.is_official:
        raise SloganRefused("这条标语不能投票。")
    try:
        with db.session.begin_nested():
            db.session.add(SloganVote(slogan_id=slogan.id, device_key=device))
    except IntegrityError:
        return False
    db.session.execute(db.update(Slogan).where(Slogan.id == slogan.id)
                       .values(vote_count=Slogan.vote_count + 1))
    db.session.commit()
    return True


def ranking(limit: int = 50) -> list[Slogan]:
    """Approved public slogans, most votes first, earlier submissions first on a tie."""
    return db.session.scalars(
        db.select(Slogan).where(Slogan.status == SloganStatus.APPROVED, Slogan.is_official.is_(False))
        .order_by(Slogan.vote_count.desc(), Slogan.id).limit(limit)).all()
