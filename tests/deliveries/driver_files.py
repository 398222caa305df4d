"""Files for the drivers' document tests: a small valid PDF, images made with Pillow, impostors."""

from __future__ import annotations

import io

from PIL import Image

from portal.seed.drivers import insurance_pdf


def pdf_bytes() -> bytes:
    """A small well-formed PDF (the demo's: a catalog, a page with text, a cross-reference)."""
    return insurance_pdf("Dana Driver")


def image_bytes(fmt: str = "PNG", size=(60, 40), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    options = {}
    if exif_gps and fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        options["exif"] = exif.tobytes()
    image.save(out, fmt, **options)
    return out.getvalue()


def upload(data: bytes, name: str):
    return {"document": (io.BytesIO(data), name)}
