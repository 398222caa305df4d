"""The shop's public profile: what customers and drivers see about a shop, and its kind.

Services validate everything before they change anything, so a refused update leaves the shop as it
was; they flush but never commit. Files are the exception to "nothing before the commit": a new logo
is written before the row points at it, and the old file is deleted by the caller after the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from geoalchemy2 import Geometry

from ..admin import audit
from ..extensions import db
from ..geo import point
from ..media import ImageRejected, store_image
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


@dataclass(frozen=True)
class ProfileChanges:
    """Everything the profile form submits; ``logo`` is a new logo's file, if one was chosen."""

    name: str
    description: str | None
    pickup_address: dict | None
    latitude: float | None
    longitude: float | None
    opening_hours: dict
    contact_email: str | None
    contact_phone: str | None
    logo: BinaryIO | None = None
    remove_logo: bool = False


def save_profile(vendor: Vendor, changes: ProfileChanges) -> str | None:
    """Save the whole profile form: the fields, and the logo replaced, removed or kept.

    Everything is checked before anything changes: :class:`ProfileError` (with the form field,
    ``"logo"`` for an image we do not accept) leaves the shop as it was. Returns the replaced
    logo's path, for the caller to delete once the change is committed. Flushes nothing.
    """
    fields = _checked_fields(changes)
    new_logo = None
    if changes.logo is not None:
        try:
            new_logo = store_image(changes.logo, "logos", current_app.config["LOGO_MAX_PIXELS"])
        except ImageRejected as error:
            raise ProfileError(str(error), field="logo") from error
    for name, value in fields.items():
        setattr(vendor, name, value)
    if new_logo is not None:
        old, vendor.logo_path = vendor.logo_path, new_logo
        return old
    if changes.remove_logo:
        old, vendor.logo_path = vendor.logo_path, None
        return old
    return None


def _checked_fields(changes: ProfileChanges) -> dict:
    """The vendor's new column values, every rule checked (ProfileError); changes nothing."""
    name = (changes.name or "").strip()
    if len(name) < 2:
        raise ProfileError("The shop needs a name of at least 2 characters.", field="name")
    address = clean_address(changes.pickup_address)
    position = check_position(changes.latitude, changes.longitude)
    hours = check_opening_hours(changes.opening_hours)
    return {
        "name": name,
        "description": (changes.description or "").strip() or None,
        "pickup_address": address,
        "location": point(position.latitude, position.longitude) if position else None,
        "opening_hours": hours,
        "contact_email": (changes.contact_email or "").strip().lower() or None,
        "contact_phone": (changes.contact_phone or "").strip() or None,
    }


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
    audit.record(
        "vendor.type_changed",
        "vendor",
        vendor.id,
        actor=by,
        label=vendor.name,
        previous=previous,
        new=vendor_type,
    )
    current_app.logger.info(
        "Vendor %s type changed from %s to %s by %s", vendor.id, previous, vendor_type, by.email
    )
    return previous
