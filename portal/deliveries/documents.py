"""A driver's insurance document: checked for what it claims to be, kept in the private media root,
served only to the driver and admins (portal/deliveries/document_views.py).

Accepted: a PDF (it must start with ``%PDF-``, carry a ``startxref`` offset that points inside the
file, at least one object and the ``%%EOF`` trailer), or a photo of the document as JPEG, PNG or
WebP (its magic bytes must match the format Pillow reads, Pillow must open and verify it, and it
is re-encoded as WebP, which drops its metadata, a phone photo's GPS position among it). Anything
else, or anything larger than ``DRIVER_DOCUMENT_MAX_BYTES``, is refused with a sentence saying why.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from PIL import ImageOps

from ..clock import utcnow
from ..extensions import db
from ..media import ImageRejected, _open_checked, private_root
from .models import Driver
from .models_drivers import DriverDocument

FOLDER = "drivers"
IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF", re.S)
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


class DocumentRefused(ValueError):
    """The upload is not a document we accept; the message says why (shown beside the field)."""


@dataclass(frozen=True)
class CheckedDocument:
    data: bytes
    content_type: str
    extension: str


def _claimed_image_format(head: bytes) -> str | None:
    for magic, name in IMAGE_MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_pdf(data: bytes) -> None:
    """Parseable enough: the header, an object, a cross-reference offset inside the file and the
    end-of-file marker within the last kilobyte."""
    if not data.startswith(b"%PDF-"):
        raise DocumentRefused("That file is not a PDF.")
    tail = data[-2048:]
    found = _STARTXREF.search(tail)
    if found is None or int(found.group(1)) >= len(data) or b"%%EOF" not in data[-1024:]:
        raise DocumentRefused("That PDF is damaged or cut short: export or scan it again.")
    if _OBJECT.search(data) is None:
        raise DocumentRefused("That PDF holds no pages we can read: export or scan it again.")


def check_document(upload, filename: str | None = None) -> CheckedDocument:
    """The upload (a file-like object) checked; an image re-encoded as WebP."""
    limit = current_app.config["DRIVER_DOCUMENT_MAX_BYTES"]
    data = upload.read(limit + 1)
    if not data:
        raise DocumentRefused("Choose the file of your insurance document.")
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        raise DocumentRefused(f"That file is larger than {size}: send a smaller scan or photo.")
    if data.startswith(b"%PDF-"):
        check_pdf(data)
        return CheckedDocument(data, "application/pdf", "pdf")
    claimed = _claimed_image_format(data[:16])
    if claimed is None:
        raise DocumentRefused("Send a PDF, or a photo of the document as JPEG, PNG or WebP.")
    try:
        image = _open_checked(io.BytesIO(data), current_app.config["IMAGE_MAX_SOURCE_PIXELS"])
    except ImageRejected as refused:
        raise DocumentRefused(str(refused)) from None
    if image.format != claimed:
        raise DocumentRefused("That file is not the image it claims to be.")
    try:
        image = ImageOps.exif_transpose(image)
        largest = current_app.config["DRIVER_DOCUMENT_MAX_PIXELS"]
        image.thumbnail((largest, largest))
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        out = io.BytesIO()
        image.save(out, "WEBP", quality=88)
    except (OSError, ValueError, SyntaxError):
        raise DocumentRefused("That image is damaged: take the photo again.") from None
    return CheckedDocument(out.getvalue(), "image/webp", "webp")


def _document_path(driver: Driver, kind: str, extension: str) -> str:
    return f"{FOLDER}/{driver.id}/{kind}-{secrets.token_hex(12)}.{extension}"


def document_of(driver: Driver, kind: str = "insurance") -> DriverDocument | None:
    return db.session.scalar(
        sa.select(DriverDocument).where(
            DriverDocument.driver_id == driver.id, DriverDocument.kind == kind
        )
    )


def store_document(
    driver: Driver, upload, *, filename: str | None = None, kind: str = "insurance"
) -> DriverDocument:
    """Check and keep the driver's document, replacing an earlier one of the same kind. A new
    insurance document needs verifying again: ``insurance_verified`` goes back to false."""
    checked = check_document(upload, filename)
    relative = _document_path(driver, kind, checked.extension)
    target = private_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(checked.data)
    document = document_of(driver, kind)
    replaced = document.path if document is not None else None
    if document is None:
        document = DriverDocument(driver_id=driver.id, kind=kind)
        db.session.add(document)
    document.path = relative
    document.content_type = checked.content_type
    document.original_name = (Path(filename).name[:255] if filename else None) or None
    document.size_bytes = len(checked.data)
    document.uploaded_at = utcnow()
    if kind == "insurance" and driver.insurance_verified:
        driver.insurance_verified = False
        if driver.status == "available":  # an unverified driver does not stay online
            driver.status = "offline"
    db.session.flush()
    if replaced and replaced != relative:
        _remove_after_commit(replaced)
    return document


def _remove_after_commit(relative: str) -> None:
    """The replaced file goes once the new row is committed (a rollback keeps the old one)."""
    session = db.session()

    def remove(_session):
        path = private_root() / relative
        if path.is_file():
            os.remove(path)

    sa.event.listen(session, "after_commit", remove, once=True)


def document_file(document: DriverDocument) -> Path:
    return private_root() / document.path


def may_read(user, document: DriverDocument) -> bool:
    """The driver themselves and admins; nobody else (vendors, customers, other drivers)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == "admin":
        return True
    return user.role == "driver" and document.driver.user_id == user.id
