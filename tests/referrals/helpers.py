"""Referral test helpers: following a shop's link as a browser does, and reading the rows back."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.referrals import cookie
from portal.referrals.models import ReferralDailyStat, ShopReferral

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


def follow(client, code: str, query: str = "", **headers):
    headers.setdefault("User-Agent", BROWSER)
    return client.get(f"/r/{code}{'?' + query if query else ''}", headers=headers)


def visitor_of(client, app) -> str | None:
    """The visitor id the client's referral cookie carries (None without one)."""
    stored = client.get_cookie(app.config["REFERRAL_COOKIE_NAME"])
    if stored is None:
        return None
    with app.test_request_context(headers={"Cookie": f"{stored.key}={stored.value}"}):
        from flask import request

        return cookie.visitor_id(request.cookies)


def visits(shop=None) -> list[ShopReferral]:
    query = sa.select(ShopReferral).order_by(ShopReferral.first_visit_at)
    if shop is not None:
        query = query.where(ShopReferral.shop_id == shop.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def stats(shop) -> list[ReferralDailyStat]:
    return list(
        db.session.scalars(
            sa.select(ReferralDailyStat)
            .where(ReferralDailyStat.shop_id == shop.id)
            .order_by(ReferralDailyStat.day, ReferralDailyStat.utm_source)
            .execution_options(populate_existing=True)
        )
    )
