"""Drivers and their deliveries."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..geo import point
from .models import BACKGROUND_CHECK_STATUSES, Driver


def create_driver_profile(
    user, *, full_name: str, phone: str, vehicle_type: str, license_number: str
) -> Driver:
    """A new driver is offline with insurance unverified and the background check pending."""
    driver = Driver(
        user_id=user.id,
        full_name=full_name.strip(),
        phone=phone,
        email=user.email,
        vehicle_type=vehicle_type,
        license_number=license_number.strip(),
    )
    db.session.add(driver)
    db.session.flush()
    return driver


def driver_for_user(user) -> Driver | None:
    return db.session.scalar(sa.select(Driver).where(Driver.user_id == user.id))


def is_verified(driver: Driver) -> bool:
    return bool(driver.insurance_verified) and driver.background_check_status == "clear"


def record_verification(
    driver: Driver, *, insurance_verified: bool, background_check_status: str
) -> Driver:
    """An admin's verdict on a driver's insurance and background check."""
    if background_check_status not in BACKGROUND_CHECK_STATUSES:
        raise ValueError(f"Unknown background check status {background_check_status!r}.")
    driver.insurance_verified = insurance_verified
    driver.background_check_status = background_check_status
    db.session.flush()
    return driver


def update_location(driver: Driver, latitude: float, longitude: float) -> Driver:
    driver.current_location = point(latitude, longitude)
    db.session.flush()
    return driver


class AvailabilityRefused(ValueError):
    """Why a driver cannot go online or offline now (shown to them)."""


def set_availability(driver: Driver, status: str) -> Driver:
    """Go online (available) or offline. Only a verified driver with a clear check goes online;
    a driver in the middle of a delivery stays on it until it ends."""
    if status not in ("available", "offline"):
        raise AvailabilityRefused("Choose online or offline.")
    if driver.status == "on_delivery":
        raise AvailabilityRefused("Finish or hand back your delivery before going offline.")
    if status == "available" and not is_verified(driver):
        raise AvailabilityRefused(
            "You can go online once your insurance is verified and your background check is clear."
        )
    driver.status = status
    db.session.flush()
    return driver
