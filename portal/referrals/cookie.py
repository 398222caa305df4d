"""The referral cookie: a first-party, signed random id naming one browser (the visitor).

The id is the ``session_id`` of the visitor's ``shop_referrals`` rows and the ``referral_session``
an order names. It is signed (itsdangerous, with ``SECRET_KEY`` and its fallbacks), so a value
nobody issued is ignored; it lives the attribution window, is ``HttpOnly`` and ``SameSite=Lax``
(sent when the person follows a link to the portal, not on other sites' requests), and ``Secure``
wherever the session cookie is.

Beside the id it carries the shops whose first touch it has seen recorded, with the day (days
since 1970) of that first touch, at most :data:`MAX_SHOPS` of them, newest kept: a returning
visitor's follow of such a shop's link is answered without the database (``redirects.py``) while
that day is within the attribution window. The claim only ever skips an insert the database would
have refused anyway (the first touch is there).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "referral-visitor"
ID_BYTES = 16  # 22 characters of base64url: unguessable
MAX_SHOPS = 20
MAX_COOKIE = 2000


@dataclass
class VisitorCookie:
    visitor: str
    #: shop id (hex, no dashes) -> day of the first touch (days since 1970).
    shops: dict[str, int] = field(default_factory=dict)

    def claims(self, shop_key: str, today: int, window_days: int) -> bool:
        day = self.shops.get(shop_key)
        return day is not None and 0 <= today - day < window_days

    def with_shop(self, shop_key: str, today: int, window_days: int) -> VisitorCookie:
        kept = {k: d for k, d in self.shops.items() if today - d < window_days and k != shop_key}
        newest = sorted(kept.items(), key=lambda item: item[1])[-(MAX_SHOPS - 1) :]
        return VisitorCookie(self.visitor, {**dict(newest), shop_key: today})


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


def read(raw: str | None, app: Flask | None = None) -> VisitorCookie | None:
    """The cookie's value opened, or None (none, not ours, or not the shape we write)."""
    if not raw or len(raw) > MAX_COOKIE:
        return None
    try:
        value = _serializer(app).loads(raw)
    except (BadSignature, UnicodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    visitor, shops = value.get("v"), value.get("s")
    if not isinstance(visitor, str) or not 10 <= len(visitor) <= 64 or not isinstance(shops, dict):
        return None
    clean = {k: d for k, d in shops.items() if isinstance(k, str) and type(d) is int}
    return VisitorCookie(visitor, clean)


def visitor_cookie(cookies) -> VisitorCookie | None:
    return read(cookies.get(current_app.config["REFERRAL_COOKIE_NAME"]))


def visitor_id(cookies) -> str | None:
    """The visitor id the request's referral cookie carries, or None (none, or not ours)."""
    opened = visitor_cookie(cookies)
    return opened.visitor if opened else None


def encoded(value: VisitorCookie, app: Flask | None = None) -> str:
    return _serializer(app).dumps({"v": value.visitor, "s": value.shops})


def options(app: Flask | None = None) -> dict:
    """How the cookie is set, for a Flask response and for the WSGI layer's own header."""
    config = (app or current_app).config
    return {
        "max_age": config["REFERRAL_ATTRIBUTION_DAYS"] * 24 * 3600,
        "secure": bool(config["SESSION_COOKIE_SECURE"]),
        "httponly": True,
        "samesite": "Lax",
        "path": "/",
    }


def set_visitor_cookie(response, value: VisitorCookie) -> None:
    response.set_cookie(current_app.config["REFERRAL_COOKIE_NAME"], encoded(value), **options())
