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


def set_availability(driver: Driver, status: str) -> Driver:
    """Go online (available) or offline; only verified drivers may go online."""
    if status == "available" and not is_verified(driver):
        raise ValueError(
            "A driver can go online only after insurance and background check are verified."
        )
    driver.status = status
    db.session.flush()
    return driver
