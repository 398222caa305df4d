"""``/r/<code>``: a shop's referral link. Public: anyone following it is sent on, never shown an
error (an unknown, old or disabled code goes to the home page)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, request, url_for

from ..extensions import db
from . import cookie, services

bp = Blueprint("referrals", __name__)

TO_MAX = 2000


def storefront_url(to: str | None, visitor: str | None) -> str | None:
    """``to`` when it is an http(s) URL on a host REFERRAL_REDIRECT_HOSTS allows, with
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
    if not host or host not in current_app.config["REFERRAL_REDIRECT_HOSTS"]:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if k != "referral_session"]
    if visitor:
        query.append(("referral_session", visitor))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


@bp.route("/r/<code>")
def visit(code: str):
    visitor = cookie.visitor_id(request.cookies)
    # Robots, link previews and prefetches are sent on like anyone, but are not visits.
    counted = (
        request.method == "GET"
        and not services.is_robot(request.user_agent.string)
        and not services.is_prefetch(request.headers)
    )
    issue_cookie = False
    if counted:
        fresh = visitor is None
        visitor = visitor or cookie.new_visitor_id()
        recorded = services.record_visit(code, visitor, services.Utm.from_args(request.args))
        db.session.commit()
        slug = recorded.shop_slug if recorded else None
        # A new shop's first touch renews the cookie to that visit's whole window.
        issue_cookie = recorded is not None and (fresh or recorded.first)
    else:
        slug = services.shop_slug_for_code(code)
    if slug is None:
        return _no_store(redirect(url_for("main.index")))
    target = storefront_url(request.args.get("to"), visitor)
    response = _no_store(redirect(target or url_for("shops.page", slug=slug)))
    if issue_cookie:
        cookie.set_visitor_cookie(response, visitor)
    return response


def _no_store(response):
    # Every follow of the link must reach us: a cached redirect would not be counted.
    response.headers["Cache-Control"] = "no-store"
    return response
