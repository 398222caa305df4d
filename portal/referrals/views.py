"""``/r/<code>``: a shop's referral link. Public: anyone following it is sent on, never shown an
error (an unknown, old or disabled code goes to the home page).

A returning visitor whose cookie claims this shop's first touch is answered by the WSGI layer in
``redirects.py`` before Flask sees the request; everything else comes here.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for

from ..extensions import db
from . import cookie, redirects, services

bp = Blueprint("referrals", __name__)


@bp.route("/r/<code>")
def visit(code: str):
    opened = cookie.visitor_cookie(request.cookies)
    visitor = opened.visitor if opened else None
    # Robots, link previews and prefetches are sent on like anyone, but are not visits.
    counted = (
        request.method == "GET"
        and not services.is_robot(request.user_agent.string)
        and not services.is_prefetch(request.headers)
    )
    if counted:
        visitor = visitor or cookie.new_visitor_id()
        recorded = services.record_visit(code, visitor, services.Utm.from_args(request.args))
        db.session.commit()
        shop = (recorded.shop_id, recorded.shop_slug) if recorded else None
    else:
        shop = services.shop_for_code(code)
    if shop is None:
        return redirects.no_store(redirect(url_for("main.index")))
    shop_id, slug = shop
    redirects.remember_code(services.normalize_code(code), shop_id, slug)
    hosts = current_app.config["REFERRAL_REDIRECT_HOSTS"]
    target = redirects.storefront_url(request.args.get("to"), visitor, hosts)
    response = redirects.no_store(redirect(target or url_for("shops.page", slug=slug)))
    if counted:
        # The cookie claims the shop's first touch from now on (a new shop renews it, and with
        # it the cookie's life, to that visit's whole window).
        today, window = redirects.epoch_day(), current_app.config["REFERRAL_ATTRIBUTION_DAYS"]
        current = opened or cookie.VisitorCookie(visitor)
        if not current.claims(shop_id.hex, today, window):
            cookie.set_visitor_cookie(response, current.with_shop(shop_id.hex, today, window))
    return response
