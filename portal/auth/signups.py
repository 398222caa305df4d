"""Sign-up, claim, password reset and email verification: every one ends in a mail.

Every sign-up answers the same "check your email" page, so the form does not tell anyone
whether an address has an account; what differs is the mail, which only the owner of the address
reads: a new address gets the link that finishes the account, an address with an account gets a
note saying so (with sign-in and reset links), a storefront buyer's address (an account without
a password) gets the link that claims it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..mail import Outgoing, public_url, send_after_commit
from . import passwords, tokens
from .models import SignupRequest, User
from .services import REGISTER, EmailTaken, find_user_by_email, normalize_email, set_new_password


class SignupUnusable(Exception):
    """The sign-up link cannot be used: ``status`` 404 (unknown), 409 (taken) or 410 (spent)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_signup(
    role: str, email: str, password: str, details: dict, *, now: datetime | None = None
) -> Outgoing:
    """Record the sign-up and mail its address; returns the queued mail."""
    now = now or utcnow()
    email = normalize_email(email)
    user = find_user_by_email(email)
    if user is None:
        token = secrets.token_urlsafe(32)
        db.session.add(
            SignupRequest(
                email=email,
                role=role,
                password_hash=passwords.hash_password(password),
                details=details,
                token_hash=_hash(token),
                created_at=now,
                expires_at=now + timedelta(hours=current_app.config["SIGNUP_LINK_HOURS"]),
            )
        )
        db.session.flush()
        link = public_url("auth.finish_signup", token=token)
        return send_after_commit(email, "signup_finish", link=link, role=role)
    if not user.has_usable_password:
        return send_claim(user)
    return send_after_commit(
        email,
        "signup_existing",
        login_link=public_url("auth.login"),
        reset_link=public_url("auth.forgot_password"),
    )


def signup_for_token(token: str, *, now: datetime | None = None, lock: bool = False):
    now = now or utcnow()
    query = sa.select(SignupRequest).where(SignupRequest.token_hash == _hash(token))
    request = db.session.scalar(query.with_for_update() if lock else query)
    if request is None:
        raise SignupUnusable(404, "This sign-up link is not valid. Check that you copied it all.")
    if request.used_at is not None:
        raise SignupUnusable(410, "This sign-up link has been used already. Sign in instead.")
    if request.expires_at <= now:
        raise SignupUnusable(410, "This sign-up link has expired. Sign up again for a new one.")
    return request


def finish_signup(token: str, *, now: datetime | None = None) -> User:
    """Create the account the link's sign-up describes; its address is verified by the link."""
    now = now or utcnow()
    request = signup_for_token(token, now=now, lock=True)
    try:
        user = REGISTER[request.role](
            email=request.email,
            password_hash=request.password_hash,
            email_verified_at=now,
            **request.details,
        )
    except EmailTaken:  # finished from another link, or created meanwhile: nothing was written
        raise SignupUnusable(
            409, "An account with this email exists now. Sign in, or reset your password."
        ) from None
    request.used_at = now
    db.session.flush()
    return user


def send_claim(user: User) -> Outgoing:
    return send_after_commit(
        user.email,
        "claim_account",
        link=public_url("auth.claim_account", token=tokens.reset_token(user)),
    )


def request_password_reset(email: str) -> Outgoing | None:
    """Mail a reset link to an active account with this address (nothing to anyone else)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return None
    if not user.has_usable_password:
        return send_claim(user)
    return send_after_commit(
        user.email,
        "password_reset",
        link=public_url("auth.reset_password", token=tokens.reset_token(user)),
        minutes=current_app.config["PASSWORD_RESET_MINUTES"],
    )


def reset_password(token: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set the password from a reset (or claim) link; the link proves the address too."""
    user = tokens.user_for_reset(token)
    set_new_password(user, new_password, verified_at=now or utcnow())
    return user


def send_verification(user: User) -> Outgoing:
    return send_after_commit(
        user.email,
        "verify_email",
        link=public_url("auth.verify_email", token=tokens.verify_token(user)),
        hours=current_app.config["EMAIL_VERIFY_HOURS"],
    )


def verify_email(token: str, *, now: datetime | None = None) -> User:
    user = tokens.user_for_verification(token)
    if user.email_verified_at is None:
        user.email_verified_at = now or utcnow()
        db.session.flush()
    return user
