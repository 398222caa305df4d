"""The shop's public profile: what customers and drivers see about a shop, and its kind.

Services validate everything before they change anything, so a refused update leaves the shop as it
was; they flush but never commit. Files are the exception to "nothing before the commit": a new logo
is written before the row points at it, and the old file is deleted by the caller after the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import sqlalchemy as sa
from flask import current_app
from geoalchemy2 import Geometry

from ..extensions import db
from ..geo import point
from ..media import store_image
from .models import Vendor

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ProfileError(ValueError):
    """A profile value breaks a rule; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float


def check_interval(opens: str, closes: str) -> None:
    """One opening interval, as "HH:MM" strings: the shop closes after it opens, the same day."""
    if not (_TIME.match(opens or "") and _TIME.match(closes or "")):
        raise ProfileError("Times are written as HH:MM, e.g. 09:00.")
    if closes <= opens:
        raise ProfileError("The closing time must be after the opening time.")


def check_opening_hours(hours: dict) -> dict[str, list[list[str]]]:
    """Validate ``{"mon": [["09:00", "17:00"]], ...}``; a missing or empty day is closed."""
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ProfileError(f"Unknown weekday: {', '.join(sorted(unknown))}.")
    cleaned: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        intervals = sorted([list(interval) for interval in hours.get(day) or []])
        for opens, closes in intervals:
            try:
                check_interval(opens, closes)
            except ProfileError as error:
                raise ProfileError(f"{WEEKDAY_NAMES[day]}: {error}", field=day) from None
        for (_, first_closes), (second_opens, _) in pairwise(intervals):
            if second_opens < first_closes:
                raise ProfileError(f"{WEEKDAY_NAMES[day]}: the opening times overlap.", field=day)
        cleaned[day] = intervals
    return cleaned


def check_position(latitude: float | None, longitude: float | None) -> Position | None:
    """Both coordinates or neither; within the globe."""
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        field = "latitude" if latitude is None else "longitude"
        raise ProfileError("Give both latitude and longitude, or neither.", field=field)
    if not -90 <= latitude <= 90:
        raise ProfileError("Latitude must be between -90 and 90.", field="latitude")
    if not -180 <= longitude <= 180:
        raise ProfileError("Longitude must be between -180 and 180.", field="longitude")
    return Position(latitude, longitude)


def clean_address(address: dict | None) -> dict[str, str] | None:
    """Keep the known address lines, trimmed; an address with nothing in it is no address."""
    address = address or {}
    cleaned = {key: (address.get(key) or "").strip() for key in ADDRESS_FIELDS}
    if not any(cleaned.values()):
        return None
    for required in ("line1", "city", "country"):
        if not cleaned[required]:
            raise ProfileError(
                "A pickup address needs at least a street line, a city and a country.",
                field=required,
            )
    return cleaned


def position_of(vendor: Vendor) -> Position | None:
    """The saved pickup position (read back through PostGIS: Shapely is not installed)."""
    if vendor.location is None:
        return None
    db.session.flush()
    geometry = sa.cast(Vendor.location, Geometry)
    row = db.session.execute(
        sa.select(sa.func.ST_Y(geometry), sa.func.ST_X(geometry)).where(Vendor.id == vendor.id)
    ).one_or_none()
    if row is None or row[0] is None:
        return None
    return Position(latitude=row[0], longitude=row[1])


def update_profile(
    vendor: Vendor,
    *,
    name: str,
    description: str | None,
    pickup_address: dict | None,
    latitude: float | None,
    longitude: float | None,
    opening_hours: dict,
    contact_email: str | None,
    contact_phone: str | None,
) -> Vendor:
    """Replace the shop's profile fields; raises ProfileError before changing anything."""
    name = (name or "").strip()
    if len(name) < 2:
        raise ProfileError("The shop needs a name of at least 2 characters.", field="name")
    address = clean_address(pickup_address)
    position = check_position(latitude, longitude)
    hours = check_opening_hours(opening_hours)

    vendor.name = name
    vendor.description = (description or "").strip() or None
    vendor.pickup_address = address
    vendor.location = point(position.latitude, position.longitude) if position else None
    vendor.opening_hours = hours
    vendor.contact_email = (contact_email or "").strip().lower() or None
    vendor.contact_phone = (contact_phone or "").strip() or None
    return vendor


def set_logo(vendor: Vendor, upload) -> str | None:
    """Store ``upload`` as the shop's logo, resized; returns the replaced file's path.

    Raises ``portal.media.ImageRejected`` (before anything changes) for a file that is not an image
    we accept. The caller deletes the returned old file once the change is committed.
    """
    path = store_image(upload, "logos", current_app.config["LOGO_MAX_PIXELS"])
    old, vendor.logo_path = vendor.logo_path, path
    return old


def clear_logo(vendor: Vendor) -> str | None:
    """Remove the shop's logo; returns the old file's path, to delete after the commit."""
    old, vendor.logo_path = vendor.logo_path, None
    return old


class VendorTypeError(ValueError):
    pass


def set_vendor_type(vendor: Vendor, vendor_type: str, by) -> str:
    """An admin changes the kind of shop (which picks its platform-fee schedule).

    Returns the previous type; the change is logged with who made it.
    """
    if by is None or by.role != "admin":
        raise VendorTypeError("Only an admin can change the kind of shop.")
    if vendor_type not in current_app.config["VENDOR_TYPES"]:
        raise VendorTypeError(f"Unknown kind of shop: {vendor_type}.")
    previous, vendor.vendor_type = vendor.vendor_type, vendor_type
    current_app.logger.info(
        "Vendor %s type changed from %s to %s by %s", vendor.id, previous, vendor_type, by.email
    )
    return previous
