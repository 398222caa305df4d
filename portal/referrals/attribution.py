"""THE referral attribution rule: which visit, if any, an order of a shop is attributed to.

An order paid at ``at`` is the shop's referral when the same shop's link was first visited no more
than ``REFERRAL_ATTRIBUTION_DAYS`` before ``at``, by the browser the order names
(``orders.referral_session``, the visitor cookie's id) or by the order's customer once that visit
was tied to them (sign-in, sign-up, or an earlier order naming the cookie: any device). A visit of
shop A never makes an order of shop B a referral. Among several matching visits the earliest wins
(first touch).

The commission rate (``commissions.rates.has_referral_attribution``) and the referral's counters
(``referrals.services.count_paid_order``) both read this one query, at the same moment of payment.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from .models import ShopReferral


def attribution_window() -> timedelta:
    return timedelta(days=current_app.config["REFERRAL_ATTRIBUTION_DAYS"])


def _matching(
    shop_id: uuid.UUID, session_id: str | None, customer_id: uuid.UUID | None, at: datetime
) -> sa.Select | None:
    who = []
    if session_id:
        who.append(ShopReferral.session_id == session_id)
    if customer_id is not None:
        who.append(ShopReferral.customer_id == customer_id)
    if not who:
        return None
    return sa.select(ShopReferral).where(
        ShopReferral.shop_id == shop_id,
        sa.or_(*who),
        ShopReferral.first_visit_at >= at - attribution_window(),
        ShopReferral.first_visit_at <= at,
    )


def attributed_visit(
    shop_id: uuid.UUID,
    session_id: str | None,
    customer_id: uuid.UUID | None,
    at: datetime,
    *,
    lock: bool = False,
) -> ShopReferral | None:
    """The visit an order of ``shop_id`` paid at ``at`` is attributed to, or None."""
    query = _matching(shop_id, session_id, customer_id, at)
    if query is None:
        return None
    query = query.order_by(ShopReferral.first_visit_at, ShopReferral.id).limit(1)
    if lock:
        # Two orders of one customer paid at once: their counters add up one after the other.
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def is_attributed(
    shop_id: uuid.UUID, session_id: str | None, customer_id: uuid.UUID | None, at: datetime
) -> bool:
    query = _matching(shop_id, session_id, customer_id, at)
    if query is None:
        return False
    return bool(db.session.scalar(sa.select(query.exists())))
