"""The demo's drivers in every verification state, each with an insurance document, and the online
ones with a short position history around the demo city.

``seed_drivers(rng)`` runs after the demo's own drivers are registered (``demo._register_drivers``):

- every demo driver without a document gets one (a small PDF, or a photo for some), through
  ``documents.store_document``, as an upload would;
- the verified ones keep their verdict, now with an admin's note; of the unverified ones one
  waits with a document, one has a check to ``consider``, one is ``suspended`` and one ``failed``
  (added when the demo has too few), each verdict through ``verification.record_verdict`` so the
  audit trail shows them;
- every online driver gets a track of positions of the last few minutes, applied through the
  position consumer's own batch (``positions.apply_entries``).

A second run adds nothing: drivers with a document are left alone.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw

from ..auth import services as accounts
from ..clock import utcnow
from ..deliveries import documents, positions, verification
from ..deliveries.models import Driver
from ..deliveries.services import set_availability
from ..extensions import db

CITY = (45.5152, -122.6784)
# Extra applicants, so each state has someone: (name, vehicle, check, insurance verified, note)
APPLICANTS = [
    ("Nora Quinn", "car", "pending", False, None),
    (
        "Omar Haddad",
        "scooter",
        "consider",
        True,
        "The check found an old speeding ticket: review it.",
    ),
    (
        "Pia Larsen",
        "bicycle",
        "suspended",
        True,
        "Suspended while a customer complaint is looked at.",
    ),
    ("Quentin Shaw", "van", "failed", False, "The background check did not pass."),
]


def insurance_pdf(title: str) -> bytes:
    """A small, well-formed one-page PDF naming ``title`` (also the tests' sample)."""
    body = f"BT /F1 18 Tf 72 720 Td (Certificate of insurance: {title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _photo(title: str) -> bytes:
    image = Image.new("RGB", (640, 420), (245, 242, 232))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 620, 400), outline=(60, 60, 60), width=3)
    draw.text((40, 40), "CERTIFICATE OF INSURANCE", fill=(20, 20, 20))
    draw.text((40, 80), title, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _has_document(driver: Driver) -> bool:
    return documents.document_of(driver) is not None


def _give_document(driver: Driver, rng: random.Random) -> None:
    if rng.random() < 0.3:
        documents.store_document(driver, io.BytesIO(_photo(driver.full_name)), filename="photo.jpg")
    else:
        documents.store_document(
            driver, io.BytesIO(insurance_pdf(driver.full_name)), filename="insurance.pdf"
        )


def _track(driver: Driver, rng: random.Random, now, points: int = 6) -> list:
    """Stream-shaped entries: a driver drifting about the city over the last few minutes."""
    lat = CITY[0] + rng.uniform(-0.05, 0.05)
    lng = CITY[1] + rng.uniform(-0.05, 0.05)
    entries = []
    for step in range(points):
        lat += rng.uniform(-0.0015, 0.0015)
        lng += rng.uniform(-0.0015, 0.0015)
        captured = now - timedelta(seconds=10 * (points - step))
        ms = int(captured.timestamp() * 1000)
        entries.append(
            (
                f"{ms}-0",
                {
                    "d": str(driver.id),
                    "lat": f"{lat:.6f}",
                    "lng": f"{lng:.6f}",
                    "t": str(ms),
                    "r": str(ms + 300),
                },
            )
        )
    return entries


def seed_drivers(
    rng: random.Random, *, admin=None, email_for=None, password: str | None = None
) -> dict:
    """Documents, verdicts and positions for the demo's drivers (see the module's docstring).
    ``email_for(slug)`` and ``password`` make the extra applicants' accounts (the demo's
    ``demo_email`` and ``DEMO_PASSWORD``); without them no applicant is added. Returns counts."""
    now = utcnow()
    added = 0
    if email_for is not None and password is not None:
        for name, vehicle, check, insured, note in APPLICANTS:
            email = email_for(name.lower().replace(" ", "-"))
            if accounts.find_user_by_email(email) is not None:
                continue
            user = accounts.register_driver(
                email=email,
                password=password,
                full_name=name,
                phone=f"+1 503 555 {rng.randint(1000, 9999)}",
                vehicle_type=vehicle,
                license_number=f"OR{rng.randint(1000000, 9999999)}",
            )
            driver = db.session.scalar(sa.select(Driver).where(Driver.user_id == user.id))
            _give_document(driver, rng)
            if check != "pending" or insured:
                verification.record_verdict(
                    driver.id,
                    insurance_verified=insured,
                    background_check_status=check,
                    note=note,
                    actor=admin,
                )
            added += 1
    documented = 0
    for driver in db.session.scalars(sa.select(Driver).order_by(Driver.created_at, Driver.id)):
        if _has_document(driver):
            continue
        verified, status = verification.is_verified(driver), driver.status
        _give_document(driver, rng)  # a new upload needs verifying: the admin verifies it again
        if verified:
            verification.record_verdict(
                driver.id,
                insurance_verified=True,
                background_check_status="clear",
                note="Insurance and licence checked.",
                actor=admin,
            )
            if status == "available":
                set_availability(driver, "available")
        documented += 1
    online = list(db.session.scalars(sa.select(Driver).where(Driver.status.in_(positions.ONLINE))))
    moved = 0
    for driver in online:
        if driver.location_captured_at is None:
            moved += positions.apply_entries(_track(driver, rng, now)).moved
    db.session.flush()
    return {"applicants": added, "documents": documented, "online_with_positions": moved}
