"""QR codes for the units' poster links, as PNG and SVG, and the ZIP of a subtree's codes."""
import io
import json
import time
import zipfile
from pathlib import Path

import qrcode
import qrcode.image.svg
from flask import current_app, request, url_for

from quiz.models import LinkPurpose, Unit

# H keeps the code readable with 30% of it hidden: a crease, a stain, a logo in the middle.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_H
QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def public_base_url() -> str:
    """The address residents reach the app at, for links printed on posters."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return (configured or request.url_root).rstrip("/")


def short_link(unit: Unit, purpose: LinkPurpose) -> str:
    """The stable link a poster carries: /u/<code> for the quiz, /u/<code>/report for reports."""
    endpoint = "play.scan_quiz" if purpose is LinkPurpose.QUIZ else "play.scan_report"
    return public_base_url() + url_for(endpoint, code=unit.code)


def _qr(data: str, factory=None) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE,
                         image_factory=factory)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str, with_background: bool = True) -> str:
    """The QR code as SVG markup (vector, for print shops); made here, never from user text."""
    factory = qrcode.image.svg.SvgPathFillImage if with_background else qrcode.image.svg.SvgPathImage
    buffer = io.BytesIO()
    _qr(data, factory).make_image().save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg"):]  # drop the XML declaration so it can sit inside HTML


def qr_png(data: str, box_size: int = 12) -> bytes:
    """The QR code as a PNG (for WeChat groups), about 12 pixels a module."""
    code = _qr(data)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_stem(unit: Unit, purpose: LinkPurpose) -> str:
    """A file name without extension that an organiser recognises: S01C01-东门社区-答题二维码."""
    name = unit.name.replace("/", "-").replace("\\", "-")  # no folders inside the ZIP
    return f"{unit.code}-{name}-{purpose.label}二维码"


def qr_filename(unit: Unit, purpose: LinkPurpose, extension: str) -> str:
    return f"{qr_stem(unit, purpose)}.{extension}"


class ZipJob:
    """A ZIP of QR codes built in the background; progress lives in a file in instance/,
    so every worker process can report it."""

    def __init__(self, job_id: str):
        folder = Path(current_app.config["EXPORT_FOLDER"] or Path(current_app.instance_path) / "exports")
        folder.mkdir(parents=True, exist_ok=True)
        self.status_path = folder / f"{job_id}.json"
        self.zip_path = folder / f"{job_id}.zip"

    @staticmethod
    def remove_stale(max_age_seconds: int = 24 * 3600) -> None:
        """Delete finished or abandoned jobs older than a day, so exports do not pile up."""
        folder = Path(current_app.config["EXPORT_FOLDER"] or Path(current_app.instance_path) / "exports")
        cutoff = time.time() - max_age_seconds
        for path in folder.glob("*.*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)

    def write_status(self, **status) -> None:
        temporary = self.status_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status, ensure_ascii=False))
        temporary.replace(self.status_path)  # atomic: a reader never sees half a file

    def read_status(self) -> dict | None:
        if not self.status_path.exists():
            return None
        return json.loads(self.status_path.read_text())

    def build(self, entries: list[tuple[str, str]], owner_id: int) -> None:
        """Write one PNG and one SVG per (filename stem, link) entry, updating progress."""
        total = len(entries)
        self.write_status(owner=owner_id, done=0, total=total, finished=False)
        temporary = self.zip_path.with_suffix(".part")
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for number, (stem, link) in enumerate(entries, start=1):
                archive.writestr(f"{stem}.png", qr_png(link))
                archive.writestr(f"{stem}.svg", qr_svg(link))
                if number % 5 == 0 or number == total:
                    self.write_status(owner=owner_id, done=number, total=total, finished=False)
        temporary.replace(self.zip_path)
        self.write_status(owner=owner_id, done=total, total=total, finished=True)
