"""Photos sent with hazard reports: checked, turned upright, re-encoded without any metadata.

Only the pixels survive: a fresh image is built from them, so EXIF (with GPS), XMP, ICC
profiles and the JPEG comment that Pillow would otherwise copy on save never reach the disk.
"""
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; anything bigger is refused unread
MIN_SIDE = 32
STORED_LONG_SIDE = 2048
THUMB_LONG_SIDE = 480


class PhotoRefused(ValueError):
    """The upload is not a photo we accept; the message says why, in Chinese."""


@dataclass(frozen=True)
class CleanPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def clean_photo(data: bytes) -> CleanPhoto:
    """Check an upload by its content and return it re-encoded as JPEG, with a thumbnail."""
    if not data:
        raise PhotoRefused("没有收到照片，请重新选择。")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused("照片太大了（超过10MB），请换一张或截图后上传。")
    with warnings.catch_warnings():
        # Pillow warns before it refuses a decompression bomb; treat the warning as refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise PhotoRefused("只能上传照片（JPG、PNG、WEBP格式）。")
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise PhotoRefused("照片像素太多了，请换一张普通照片。")
                if min(width, height) < MIN_SIDE:
                    raise PhotoRefused("照片太小了，看不清隐患，请换一张。")
                probe.verify()
            with Image.open(io.BytesIO(data)) as source:
                source.seek(0)  # the first frame of a GIF or an MPO
                upright = ImageOps.exif_transpose(source)
                pixels = upright.convert("RGB")
        except PhotoRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise PhotoRefused("照片像素太多了，请换一张普通照片。") from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise PhotoRefused("这个文件不是可以识别的照片，请重新拍摄或选择。") from error
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    clean.thumbnail((STORED_LONG_SIDE, STORED_LONG_SIDE))
    thumb = clean.copy()
    thumb.thumbnail((THUMB_LONG_SIDE, THUMB_LONG_SIDE))
    return CleanPhoto(image=_jpeg(clean, 85), thumbnail=_jpeg(thumb, 80),
                      width=clean.width, height=clean.height)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.info.clear()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"] or Path(current_app.instance_path) / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def photo_path(token: str, thumbnail: bool = False) -> Path:
    return upload_folder() / f"{token}{'-thumb' if thumbnail else ''}.jpg"


def store_photo(photo: CleanPhoto) -> str:
    """Write the photo and its thumbnail; return the random token that names them."""
    token = secrets.token_urlsafe(18)
    photo_path(token).write_bytes(photo.image)
    photo_path(token, thumbnail=True).write_bytes(photo.thumbnail)
    return token


def remove_photos(tokens: list[str]) -> None:
    """Delete stored files whose rows were rolled back."""
    for token in tokens:
        photo_path(token).unlink(missing_ok=True)
        photo_path(token, thumbnail=True).unlink(missing_ok=True)
