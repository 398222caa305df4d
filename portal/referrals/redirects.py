"""The referral link's redirects, and the WSGI layer answering returning visitors.

A returning visitor's follow of a link records nothing (first touch), so it needs no database:
:class:`ReferralLinks`, in front of Flask, answers ``GET /r/<code>`` itself when the signed cookie
claims this shop's first touch within the window (``cookie.VisitorCookie``) and the code is in
this process's code cache (filled by the Flask view on every lookup, kept
``REFERRAL_CODE_CACHE_SECONDS``). With ``REFERRAL_VISIT_BUFFER`` it answers a first visit of such
a code too, appending it to the Redis stream the worker applies (``buffer.py``). Anything else (a
code not seen lately, robots, prefetches, Redis down) goes on to the Flask view, which reads and
writes the database. A code regenerated or a shop disabled is therefore seen at most that many
seconds late by the layer.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

import redis
from flask import Flask, current_app
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import dump_cookie, parse_cookie

from ..clock import utcnow
from ..inputs import has_unsafe_text
from ..security import CONTENT_SECURITY_POLICY
from . import cookie
from .buffer import append_visit
from .services import Utm, clean_utm, is_prefetch, is_robot, normalize_code

UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign")

TO_MAX = 2000
EPOCH = date(1970, 1, 1)
CACHE_KEY = "portal.referral-codes"


def epoch_day() -> int:
    return (utcnow().date() - EPOCH).days


def no_store(response):
    # Every follow of the link must reach us: a cached redirect would not be counted.
    response.headers["Cache-Control"] = "no-store"
    return response


def storefront_url(to: str | None, visitor: str | None, hosts) -> str | None:
    """``to`` when it is an http(s) URL on one of ``hosts`` (REFERRAL_REDIRECT_HOSTS), with
    ``referral_session=<visitor>`` appended (replacing one it had); None otherwise."""
    if not to or len(to) > TO_MAX or any(c in to for c in "\\ \t\r\n") or not to.isprintable():
        return None  # a backslash or a space reads differently in browsers than in urlsplit
    try:
        parts = urlsplit(to)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username is not None or parts.password:
        return None
    if not host or host not in hosts:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if k != "referral_session"]
    if visitor:
        query.append(("referral_session", visitor))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


# --- the code cache --------------------------------------------------------------------------


def remember_code(code: str | None, shop_id: uuid.UUID, slug: str, app: Flask | None = None):
    app = app or current_app._get_current_object()
    seconds = app.config["REFERRAL_CODE_CACHE_SECONDS"]
    if code and seconds > 0:
        cache = app.extensions.setdefault(CACHE_KEY, {})
        if len(cache) > 10_000:
            cache.clear()  # bounded: a flood of codes cannot grow it without end
        cache[code] = (shop_id.hex, slug, time.monotonic() + seconds)


def cached_code(app: Flask, code: str | None) -> tuple[str, str] | None:
    entry = app.extensions.get(CACHE_KEY, {}).get(code) if code else None
    if entry is None or entry[2] < time.monotonic():
        return None
    return entry[0], entry[1]


# --- the WSGI layer --------------------------------------------------------------------------


class ReferralLinks:
    """WSGI middleware answering ``GET /r/<code>`` of a code it knows before Flask sees it: a
    returning visitor's (nothing to record), and with ``REFERRAL_VISIT_BUFFER`` a first visit's
    (appended to the Redis stream). Anything else goes on to the Flask view."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or ""
        if path.startswith("/r/") and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            answer = self._answer(environ, path[3:])
            if answer is not None:
                location, set_cookie = answer
                start_response("302 FOUND", self._headers(location, set_cookie))
                return [b""]
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ, code: str) -> tuple[str, str | None] | None:
        query_string = environ.get("QUERY_STRING") or ""
        if not code or "/" in code or has_unsafe_text(code) or "%00" in query_string:
            return None
        code = normalize_code(code)
        shop = cached_code(self.app, code)
        if shop is None:
            return None
        config = self.app.config
        shop_key, slug = shop
        opened = cookie.read(parse_cookie(environ).get(config["REFERRAL_COOKIE_NAME"]), self.app)
        today, window = epoch_day(), config["REFERRAL_ATTRIBUTION_DAYS"]
        query = parse_qs(query_string)
        if opened is not None and opened.claims(shop_key, today, window):
            return self._location(environ, query, opened.visitor, slug), None
        headers = EnvironHeaders(environ)
        if (
            not config["REFERRAL_VISIT_BUFFER"]
            or environ.get("REQUEST_METHOD") != "GET"
            or is_robot(headers.get("User-Agent"), config["REFERRAL_BOT_USER_AGENTS"])
            or is_prefetch(headers)
        ):
            return None
        visitor = opened.visitor if opened else cookie.new_visitor_id()
        utm = Utm(*(clean_utm((query.get(name) or [None])[0]) for name in UTM_NAMES))
        try:
            append_visit(self.app, visitor, shop_key, code, utm, int(utcnow().timestamp() * 1000))
        except redis.RedisError:
            return None  # the Flask view writes it to the database itself
        claimed = (opened or cookie.VisitorCookie(visitor)).with_shop(shop_key, today, window)
        set_cookie = dump_cookie(
            config["REFERRAL_COOKIE_NAME"],
            cookie.encoded(claimed, self.app),
            **cookie.options(self.app),
        )
        return self._location(environ, query, visitor, slug), set_cookie

    def _location(self, environ, query, visitor: str, slug: str) -> str:
        to = query.get("to")
        hosts = self.app.config["REFERRAL_REDIRECT_HOSTS"]
        target = storefront_url(to[0] if to else None, visitor, hosts)
        return target or f"{environ.get('SCRIPT_NAME', '')}/shops/{quote(slug)}"

    def _headers(self, location: str, set_cookie: str | None) -> list[tuple[str, str]]:
        headers = [
            ("Location", location),
            ("Content-Length", "0"),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ]
        if set_cookie:
            headers.append(("Set-Cookie", set_cookie))
        if self.app.config.get("SESSION_COOKIE_SECURE"):
            headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        return headers


def init_app(app: Flask) -> None:
    app.wsgi_app = ReferralLinks(app, app.wsgi_app)
