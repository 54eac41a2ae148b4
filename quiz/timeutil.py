"""Time helpers: store UTC, count days in the campaign's local time zone."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite reads timestamps back naive; treat those as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def local_zone() -> ZoneInfo:
    """Return the deployment's local time zone (Asia/Shanghai by default)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_day(moment: datetime) -> date:
    """Return the calendar day a moment falls on in the local time zone."""
    return as_utc(moment).astimezone(local_zone()).date()


def local_time(moment: datetime) -> datetime:
    """Return a moment in local time, for display."""
    return as_utc(moment).astimezone(local_zone())
