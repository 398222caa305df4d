"""Accounts: creating users of each role and checking their passwords."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..customers.services import create_customer_profile
from ..deliveries.services import create_driver_profile
from ..extensions import db
from ..vendors.services import open_shop
from . import passwords
from .models import User


class EmailTaken(ValueError):
    """An account with this email address exists already."""


class PasswordRefused(ValueError):
    """The password policy refuses a password; the message says why."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == normalize_email(email))
    )


def create_user(
    email: str,
    password: str | None,
    role: str,
    *,
    password_hash: str | None = None,
    email_verified_at: datetime | None = None,
) -> User:
    """A new account with ``password`` (or an already computed ``password_hash``).

    Without either the account has the unusable password marker: nobody can sign in to it until
    the owner of the address claims it. Raises EmailTaken, writing nothing, when the address has
    an account, also when a concurrent request creates it first (the unique index decides).
    """
    email = normalize_email(email)
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)
    if password is not None:
        password_hash = passwords.hash_password(password)
    user = User(
        email=email,
        role=role,
        password_hash=password_hash or passwords.UNUSABLE,
        email_verified_at=email_verified_at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:
        if "uq_users_email_lower" in str(error.orig):
            raise EmailTaken(email) from None
        raise
    return user


def register_customer(*, email: str, full_name: str, phone: str | None = None, **account) -> User:
    """``account``: ``password`` or ``password_hash``, and ``email_verified_at`` (create_user)."""
    user = create_user(email, account.pop("password", None), "customer", **account)
    create_customer_profile(user, full_name=full_name, phone=phone)
    return user


def register_vendor(
    *, email: str, shop_name: str, vendor_type: str, contact_phone: str, **account
) -> User:
    """A vendor account opens its shop at once; the shop starts at the bronze tier."""
    user = create_user(email, account.pop("password", None), "vendor", **account)
    open_shop(user, name=shop_name, vendor_type=vendor_type, contact_phone=contact_phone)
    return user


def register_driver(
    *,
    email: str,
    full_name: str,
    phone: str,
    vehicle_type: str,
    license_number: str,
    **account,
) -> User:
    """A driver signs up unverified; an admin checks insurance and background before they drive."""
    user = create_user(email, account.pop("password", None), "driver", **account)
    create_driver_profile(
        user,
        full_name=full_name,
        phone=phone,
        vehicle_type=vehicle_type,
        license_number=license_number,
    )
    return user


REGISTER = {"customer": register_customer, "vendor": register_vendor, "driver": register_driver}


def create_admin(email: str, password: str) -> User:
    refusal = passwords.problem(password, email)
    if refusal:
        raise PasswordRefused(refusal)
    return create_user(email, password, "admin")


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    An unknown email, an unclaimed account and a wrong password get the same answer in the same
    time (a dummy hash is checked when there is no real one), so sign-in does not reveal accounts.
    """
    user = find_user_by_email(email)
    matches = passwords.check(user.password_hash if user else None, password)
    if user is None or not matches or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one. The caller ends the sessions."""
    if not user.check_password(current):
        raise PasswordRefused("Your current password is not that one.")
    set_new_password(user, new)


def set_new_password(user: User, new: str, *, verified_at: datetime | None = None) -> None:
    refusal = passwords.problem(new, user.email)
    if refusal:
        raise PasswordRefused(refusal)
    user.set_password(new)
    if verified_at is not None and user.email_verified_at is None:
        user.email_verified_at = verified_at
    db.session.flush()


def mark_emails_verified(email_pattern: str, at: datetime) -> None:
    """Mark the usable accounts whose email matches the SQL LIKE pattern verified (the demo)."""
    db.session.execute(
        sa.update(User)
        .where(
            User.email.like(email_pattern),
            User.email_verified_at.is_(None),
            User.password_hash != passwords.UNUSABLE,
        )
        .values(email_verified_at=at)
    )
