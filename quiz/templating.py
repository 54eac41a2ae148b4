"""Template helpers: cache-busting static URLs and Chinese number formats."""
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, url_for

from quiz.timeutil import local_time


@lru_cache(maxsize=128)
def _file_version(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def asset(filename: str) -> str:
    """URL of a static file with a content hash, so browsers may cache it for a year."""
    if current_app.debug:  # a developer edits static files while the server runs
        path = Path(current_app.static_folder) / filename
        return url_for("static", filename=filename,
                       v=_file_version(str(path), path.stat().st_mtime))
    # Elsewhere they change with a deployment, which restarts the workers: build each URL once.
    urls = current_app.extensions.setdefault("asset_urls", {})
    key = (request.script_root if has_request_context() else "", filename)
    url = urls.get(key)
    if url is None:
        path = str(Path(current_app.static_folder) / filename)
        url = urls[key] = url_for("static", filename=filename, v=_file_version(path, 0.0))
    return url


def percent(fraction: float) -> str:
    """32.5%; small rates keep two decimals so that a first participant shows (0.03%)."""
    if 0 < fraction < 0.01:
        return f"{fraction * 100:.2f}%"
    return f"{fraction * 100:.1f}%"


def duration(milliseconds: int | None) -> str:
    """Format a duration as 2分05秒 or 48秒."""
    seconds = round((milliseconds or 0) / 1000)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}分{seconds:02d}秒" if minutes else f"{seconds}秒"


def mask_name(name: str) -> str:
    """Hide a name on public pages: 张三 → 张*, 张小明 → 张*明."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def local_datetime(moment) -> str:
    return local_time(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def local_date(moment) -> str:
    """The day only: the exposure board must not tell when someone walked past."""
    return local_time(moment).strftime("%Y-%m-%d") if moment else ""


def register(app: Flask) -> None:
    app.jinja_env.globals["asset"] = asset
    app.jinja_env.filters.update(percent=percent, duration=duration, mask_name=mask_name,
                                 local_datetime=local_datetime, local_date=local_date)
