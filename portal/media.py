"""Uploaded files: public images under MEDIA_ROOT, a shop's private files under PRIVATE_MEDIA_ROOT.

Images are checked, resized and re-encoded before they are stored; re-encoding with Pillow drops
whatever else the upload carried (metadata, scripts in SVG-like payloads); only JPEG, PNG and WebP
are accepted. They are public (``/media/…``), like a storefront's.

A shop's other uploads (CSV imports; later insurance documents) live in a separate folder, under
the shop's id, and are served (``/files/<vendor id>/…``) only to the shop's members and to
admins, marked ``Cache-Control: private`` so no shared cache keeps them.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory, url_for
from flask_login import current_user
from PIL import Image, ImageOps, UnidentifiedImageError

from .extensions import login_manager

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
LEGACY_PRIVATE_FOLDER = "imports"

bp = Blueprint("media", __name__)
private_bp = Blueprint("private_files", __name__, url_prefix="/files")


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message says why."""


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def _open_checked(upload, max_source_pixels: int) -> Image.Image:
    """The upload opened (not yet decoded), refused when it declares more pixels than we decode.

    A decompression bomb is a tiny file declaring e.g. 30000 x 30000 pixels; its header is read
    without decoding, so the size is checked before any pixel memory is allocated. Pillow's own
    bomb guard (a warning, then ``DecompressionBombError``) is turned into the same refusal.
    """
    too_large = ImageRejected(
        f"That image has too many pixels (at most {max_source_pixels // 1_000_000} megapixels)."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.width * image.height > max_source_pixels:
                raise too_large
            image.verify()  # catches truncated and corrupt files
            upload.seek(0)
            image = Image.open(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageRejected):
            raise
        raise ImageRejected(
            "That file is not an image we can read (use JPEG, PNG or WebP)."
        ) from error
    return image


def checked_image(
    upload, max_pixels: int, formats=ACCEPTED_FORMATS, refusal="Use a JPEG, PNG or WebP image."
) -> Image.Image:
    """``upload`` opened, checked (one of ``formats``, else ``refusal``), turned upright and at
    most ``max_pixels`` on its long side: ready to be re-encoded."""
    image = _open_checked(upload, current_app.config["IMAGE_MAX_SOURCE_PIXELS"])
    if image.format not in formats:
        raise ImageRejected(refusal)
    image = ImageOps.exif_transpose(image)
    image.thumbnail((max_pixels, max_pixels))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return image


def webp_bytes(image: Image.Image) -> bytes:
    """The image re-encoded as WebP (whatever else the upload carried is dropped)."""
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=85)
    return buffer.getvalue()


def store_image(upload, folder: str, max_pixels: int) -> str:
    """Save ``upload`` (a file-like object) as WebP, at most ``max_pixels`` on its long side.

    Returns the path relative to MEDIA_ROOT, for the database.
    """
    image = checked_image(upload, max_pixels)
    relative = Path(folder) / f"{secrets.token_hex(16)}.webp"
    target = media_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(webp_bytes(image))
    return relative.as_posix()


def delete_media(relative: str | None) -> None:
    if relative:
        path = media_root() / relative
        if path.is_file():
            os.remove(path)


def media_url(relative: str | None) -> str | None:
    return url_for("media.file", path=relative) if relative else None


@bp.route("/media/<path:path>")
def file(path: str):
    """Shop logos and product photos are public, like a storefront's."""
    if path.split("/", 1)[0] == LEGACY_PRIVATE_FOLDER:
        abort(404)  # CSV imports stored here before the private area existed are not public
    response = send_from_directory(media_root(), path, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- a shop's private files -----------------------------------------------------------------------


def private_root() -> Path:
    return Path(current_app.config["PRIVATE_MEDIA_ROOT"])


def store_private(vendor_id, folder: str, name: str, data: bytes) -> str:
    """Keep ``data`` as ``<vendor id>/<folder>/<name>`` in the private area; returns that path."""
    relative = Path(str(vendor_id)) / folder / name
    target = private_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative.as_posix()


def private_path(relative: str) -> Path:
    return private_root() / relative


def private_url(relative: str) -> str:
    vendor_id, _, path = relative.partition("/")
    return url_for("private_files.file", vendor_id=vendor_id, path=path)


def may_read_private_files(user, vendor_id) -> bool:
    """Admins, and the members (owner and staff) of the shop ``vendor_id``."""
    from .vendors.services import vendor_for_user  # vendors imports this module: import late

    if not user.is_authenticated:
        return False
    if user.role == "admin":
        return True
    vendor = vendor_for_user(user) if user.role == "vendor" else None
    return vendor is not None and vendor.id == vendor_id


@private_bp.route("/<uuid:vendor_id>/<path:path>", endpoint="file")
def private_file(vendor_id, path: str):
    """A shop's private upload, for its members and admins only (others: not found)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not may_read_private_files(current_user, vendor_id):
        abort(404, description="There is no such file.")
    response = send_from_directory(private_root() / str(vendor_id), path, as_attachment=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
