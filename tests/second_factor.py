"""Admins who proved their second factor, the way a browser does: enrolled with a known key,
signed in through the form, and a code computed with pyotp sent to the verification page."""

from __future__ import annotations

import pyotp

from portal.auth import totp
from portal.clock import utcnow
from tests.factories import PASSWORD, make_admin

VERIFY = "/admin/second-factor/verify"


def enroll(user, secret: str | None = None) -> str:
    """Give ``user`` a confirmed authenticator; returns its key (base32)."""
    secret = secret or pyotp.random_base32()
    totp.enroll_with_secret(user, secret)
    return secret


def code_for(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(utcnow(), counter_offset=steps_ahead)


def prove(client, secret: str):
    """Verify this client's session. A code of this 30-second step may have been used already
    (an earlier sign-in of the same admin in this test): the next step's is accepted too."""
    for steps_ahead in (0, 1):
        response = client.post(VERIFY, data={"code": code_for(secret, steps_ahead)})
        if response.status_code == 303:
            return response
    raise AssertionError(f"could not verify: {response.status_code}")


def sign_in_verified(client, user, secret: str | None = None) -> str:
    """Enroll ``user`` (unless ``secret`` is theirs already), sign in, verify; returns the key."""
    if secret is None:
        secret = enroll(user)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, "could not sign in"
    prove(client, secret)
    return secret


def verified_admin(client, email: str | None = None):
    """A new admin, signed in on ``client`` with the second factor proved."""
    user = make_admin(email)
    sign_in_verified(client, user)
    return user
