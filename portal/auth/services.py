"""Accounts: creating users of each role and checking their passwords."""

from __future__ import annotations

import sqlalchemy as sa

from ..clock import utcnow
from ..customers.services import create_customer_profile
from ..deliveries.services import create_driver_profile
from ..extensions import db
from ..vendors.services import open_shop
from .models import User


class EmailTaken(ValueError):
    """An account with this email address exists already."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == normalize_email(email))
    )


def create_user(email: str, password: str, role: str) -> User:
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def register_customer(
    *, email: str, password: str, full_name: str, phone: str | None = None
) -> User:
    user = create_user(email, password, "customer")
    create_customer_profile(user, full_name=full_name, phone=phone)
    return user


def register_vendor(
    *, email: str, password: str, shop_name: str, vendor_type: str, contact_phone: str
) -> User:
    """A vendor account opens its shop at once; the shop starts at the bronze tier."""
    user = create_user(email, password, "vendor")
    open_shop(user, name=shop_name, vendor_type=vendor_type, contact_phone=contact_phone)
    return user


def register_driver(
    *,
    email: str,
    password: str,
    full_name: str,
    phone: str,
    vehicle_type: str,
    license_number: str,
) -> User:
    """A driver signs up unverified; an admin checks insurance and background before they drive."""
    user = create_user(email, password, "driver")
    create_driver_profile(
        user,
        full_name=full_name,
        phone=phone,
        vehicle_type=vehicle_type,
        license_number=license_number,
    )
    return user


def create_admin(email: str, password: str) -> User:
    return create_user(email, password, "admin")


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    An unknown email and a wrong password get the same answer, so sign-in does not reveal accounts.
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user
