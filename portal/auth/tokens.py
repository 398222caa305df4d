"""Signed links for account mails: password reset (also the claim of a storefront buyer's
account) and email verification.

A reset link is signed with the secret key and carries a fingerprint of the password hash it was
made for: once the password changes, every earlier link stops working, so a link works once
without storing it. Links expire (``PASSWORD_RESET_MINUTES``, ``EMAIL_VERIFY_HOURS``).
"""

from __future__ import annotations

import hashlib
import uuid

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from .models import User

RESET = "password-reset"
VERIFY = "email-verify"


class LinkUnusable(Exception):
    """The link cannot be used; ``message`` says why (expired, used, or not a valid link)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"portal-{purpose}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.password_hash}|{user.email}".encode()).hexdigest()[:32]


def reset_token(user: User) -> str:
    return _serializer(RESET).dumps({"u": str(user.id), "p": _fingerprint(user)})


def verify_token(user: User) -> str:
    return _serializer(VERIFY).dumps({"u": str(user.id), "e": user.email})


def _load(purpose: str, token: str, max_age: int) -> dict:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkUnusable("This link has expired. Ask for a new one.") from None
    except BadSignature:
        raise LinkUnusable(
            "This link is not valid. Check that you copied all of it, or ask for a new one."
        ) from None
    return data


def _user(data: dict) -> User | None:
    try:
        return db.session.get(User, uuid.UUID(str(data.get("u"))))
    except ValueError:
        return None


def user_for_reset(token: str) -> User:
    data = _load(RESET, token, current_app.config["PASSWORD_RESET_MINUTES"] * 60)
    user = _user(data)
    if user is None or not user.is_active:
        raise LinkUnusable("This link is not valid any more.")
    if data.get("p") != _fingerprint(user):
        raise LinkUnusable("This link has been used already, or the password changed since.")
    return user


def user_for_verification(token: str) -> User:
    data = _load(VERIFY, token, current_app.config["EMAIL_VERIFY_HOURS"] * 3600)
    user = _user(data)
    if user is None or data.get("e") != user.email:
        raise LinkUnusable("This link is not valid any more.")
    return user
