"""Referral rows for the vendor page's tests, written straight into the tables the attribution
code fills (``shop_referrals``, ``referral_daily_stats``): the page only reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.referrals.models import ReferralDailyStat, ShopReferral


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def add_day(
    shop,
    day: date,
    *,
    source="",
    medium="",
    campaign="",
    visits=0,
    conversions=0,
    orders=0,
    revenue="0",
):
    """One ``referral_daily_stats`` row."""
    row = ReferralDailyStat(
        shop_id=shop.id,
        day=day,
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        visits=visits,
        conversions=conversions,
        orders=orders,
        revenue=Decimal(revenue),
    )
    db.session.add(row)
    db.session.flush()
    return row


def add_visit(
    shop,
    day: date,
    *,
    source=None,
    medium=None,
    campaign=None,
    converted_on=None,
    lifetime_value="0",
    total_orders=0,
    code=None,
    session_id=None,
):
    """One ``shop_referrals`` row (a visit), converted on ``converted_on`` if given."""
    row = ShopReferral(
        shop_id=shop.id,
        session_id=session_id or f"s-{day}-{source}-{campaign}",
        referral_code=code or shop.referral_code,
        utm_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        first_visit_at=at_noon(day),
        converted_at=at_noon(converted_on) if converted_on else None,
        lifetime_value=Decimal(lifetime_value),
        total_orders=total_orders,
    )
    db.session.add(row)
    db.session.flush()
    return row


def days_ago(n: int) -> date:
    from portal.clock import today

    return today() - timedelta(days=n)
