"""The referral cookie: a first-party, signed random id naming one browser (the visitor).

The id is the ``session_id`` of the visitor's ``shop_referrals`` rows and the ``referral_session``
an order names. It is signed (itsdangerous, with ``SECRET_KEY`` and its fallbacks), so a value
nobody issued is ignored; it lives the attribution window, is ``HttpOnly`` and ``SameSite=Lax``
(sent when the person follows a link to the portal, not on other sites' requests), and ``Secure``
wherever the session cookie is.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "referral-visitor"
ID_BYTES = 16  # 22 characters of base64url: unguessable


def _serializer(app: Flask | None = None) -> URLSafeSerializer:
    app = app or current_app._get_current_object()
    serializer = app.extensions.get("portal.referral-cookie")
    if serializer is None:
        config = app.config
        # Newest key last: a cookie signed with a fallback key still opens.
        keys = [*reversed(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]
        serializer = app.extensions["portal.referral-cookie"] = URLSafeSerializer(keys, salt=SALT)
    return serializer


def new_visitor_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def visitor_id(cookies) -> str | None:
    """The visitor id the request's referral cookie carries, or None (none, or not ours)."""
    raw = cookies.get(current_app.config["REFERRAL_COOKIE_NAME"])
    if not raw or len(raw) > 200:
        return None
    try:
        value = _serializer().loads(raw)
    except (BadSignature, UnicodeError, ValueError):
        return None
    if not isinstance(value, str) or not 10 <= len(value) <= 64:
        return None
    return value


def set_visitor_cookie(response, visitor: str) -> None:
    config = current_app.config
    response.set_cookie(
        config["REFERRAL_COOKIE_NAME"],
        _serializer().dumps(visitor),
        max_age=config["REFERRAL_ATTRIBUTION_DAYS"] * 24 * 3600,
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
        path="/",
    )
