"""Template helpers: static URLs with a hash, CSRF tokens, the paper's options, Chinese formats."""
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request, session, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from quiz.bank_loader import OPTION_LETTERS
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


MAX_REMEMBERED_TOKENS = 10_000  # a few MB at most; forgotten all at once beyond it


def csrf_token() -> str:
    """Flask-WTF's signed CSRF token, signed once per worker for each person's secret.

    Flask-WTF signs the secret in the session anew on every page, with the time: 0.04-0.07 ms
    of the paper page's CPU (bench/results-load.md). With no time limit on tokens
    (WTF_CSRF_TIME_LIMIT = None) every signature of a secret is equally valid, so the first
    one is handed out again. With a time limit, each page gets a fresh one as before.
    """
    config = current_app.config
    field = config["WTF_CSRF_FIELD_NAME"]
    if field in g or config["WTF_CSRF_TIME_LIMIT"] is not None or field not in session:
        return generate_csrf()
    secret_key = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    signed = current_app.extensions.setdefault("signed_csrf_tokens", {})
    token = signed.get((secret_key, session[field]))
    if token is not None:
        setattr(g, field, token)  # where generate_csrf() and Flask-WTF's forms look first
        return token
    token = generate_csrf()
    if len(signed) >= MAX_REMEMBERED_TOKENS:
        signed.clear()
    signed[(secret_key, session[field])] = token
    return token


def option_marker(qtype, key: str, position: int) -> str:
    """What marks an option wherever it is shown: A–F by its place on the paper, ✓/✗ for
    true/false."""
    if qtype.value == "judge":
        return "✓" if key == "T" else "✗"
    return OPTION_LETTERS[position]


def option_labels(item) -> Markup:
    """One question's options on the paper page: a radio or checkbox and its label each.

    Built here, not in the template: the paper page is the busiest page, and Jinja's loop
    over its options (five expressions per option, each escaped, 20 options on a contest
    paper) was most of its rendering. With this helper a render takes 1.21 M instructions
    instead of 1.85 M (callgrind, bench/results-load.md). Everything put in is safe as it
    stands: the option texts were escaped once per version (QuestionContent.option_html), the
    rest are integers and fixed strings.
    """
    content = item.content
    qtype = content.qtype
    input_type = "checkbox" if qtype.value == "multiple" else "radio"
    name = f"q{int(item.position)}"
    chosen = item.chosen or ()
    html = content.option_html
    labels = []
    for index, key in enumerate(item.option_order):
        checked = " checked" if key in chosen else ""
        labels.append(
            f'<label class="option"><input type="{input_type}" name="{name}" value="{index}"'
            f'{checked}><span class="option-letter">{option_marker(qtype, key, index)}</span>'
            f'<span class="option-text">{html[key]}</span></label>')
    return Markup("\n".join(labels))


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
    app.jinja_env.globals.update(asset=asset, csrf_token=csrf_token,
                                 option_labels=option_labels, option_marker=option_marker)
    # Flask-WTF also hands its own csrf_token to every template; a later processor wins.
    app.context_processor(lambda: {"csrf_token": csrf_token})
    app.jinja_env.filters.update(percent=percent, duration=duration, mask_name=mask_name,
                                 local_datetime=local_datetime, local_date=local_date)
