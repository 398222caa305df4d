"""Referral visits and what they turn into: every change to ``shop_referrals``,
``referral_daily_stats`` and ``referral_orders`` goes through here.

* A visit of ``/r/<code>`` (views.py) records the visitor's first touch of the shop: one row per
  (visitor cookie id, shop), counted once into the day's statistics (:func:`record_visit`).
* Signing in or up ties the cookie's visits to the customer (:func:`tie_visitor`); so does an
  order that names the cookie's id (:func:`tie_order`, at placement).
* At payment an attributed order (``attribution.py``, the rule the commission rate reads too)
  writes its ``referral_orders`` row once, converts the visit on the first one and adds to its
  totals and the statistics of the visit's day and UTM (:func:`count_paid_order`); a refund takes
  its merchandise back off them, never below zero (:func:`count_refund`).

Statistics rows are keyed by the visit's day (UTC) and UTM triple: a conversion, an order or
revenue is counted into the row of the visit that brought it, so a period's conversion rate is of
the visits of that period. Functions flush and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from ..clock import as_utc, utcnow
from ..extensions import db
from ..vendors.models import Vendor
from ..vendors.services import new_referral_code
from .attribution import attributed_visit
from .models import ReferralDailyStat, ReferralOrder, ShopReferral

UTM_MAX = 100
CODE_MAX = 50
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Utm:
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None

    @classmethod
    def from_args(cls, args) -> Utm:
        return cls(
            clean_utm(args.get("utm_source")),
            clean_utm(args.get("utm_medium")),
            clean_utm(args.get("utm_campaign")),
        )


def clean_utm(value: str | None) -> str | None:
    """A UTM value as stored: trimmed, at most the column's length; empty is none."""
    if not value:
        return None
    value = value.strip()[:UTM_MAX].strip()
    return value or None


def normalize_code(code: str | None) -> str | None:
    """Codes are upper case (vendors.services.REFERRAL_ALPHABET); read aloud, they arrive in any."""
    if not code:
        return None
    code = code.strip().upper()
    return code if 0 < len(code) <= CODE_MAX else None


def is_robot(user_agent: str | None, words=None) -> bool:
    """A crawler, a link-preview fetcher or a script: its visits are not counted. Browsers always
    send a user agent, so none at all counts as a robot too."""
    agent = (user_agent or "").lower()
    if not agent.strip():
        return True
    words = current_app.config["REFERRAL_BOT_USER_AGENTS"] if words is None else words
    return any(word in agent for word in words)


def is_prefetch(headers) -> bool:
    """Browsers and link previews fetch ahead with ``Sec-Purpose: prefetch`` (or the older
    ``Purpose``/``X-Moz`` headers); the person has not visited yet."""
    for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"):
        if "prefetch" in (headers.get(name) or "").lower():
            return True
    return False


# --- visits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    shop_id: uuid.UUID
    shop_slug: str
    #: A new (visitor, shop) row was recorded and counted by this call.
    first: bool


# One round trip: the shop by its code (active shops only), the visitor's first touch of it
# (nothing on a revisit: first touch keeps its time and UTM), and the day's statistic for a new
# row only. Its commit does not wait for the WAL flush (synchronous_commit off for this
# transaction alone): a crash of the database server may lose the last fraction of a second of
# visits, never leave a row without its count; the money's transactions keep waiting.
_VISIT_SQL = sa.text(
    """
    WITH relaxed AS (
        SELECT set_config('synchronous_commit', 'off', true)
    ), shop AS (
        SELECT id, slug FROM vendors, relaxed
        WHERE referral_code = :code AND status = 'active'
    ), new AS (
        INSERT INTO shop_referrals
            (shop_id, session_id, referral_code, utm_source, utm_medium, utm_campaign,
             first_visit_at, lifetime_value, total_orders)
        SELECT id, :session_id, :code, :source, :medium, :campaign, :at, 0, 0 FROM shop
        ON CONFLICT (session_id, shop_id) DO NOTHING
        RETURNING shop_id
    ), counted AS (
        INSERT INTO referral_daily_stats AS s
            (shop_id, day, utm_source, utm_medium, utm_campaign, visits, conversions, orders,
             revenue)
        SELECT shop_id, :day, coalesce(:source, ''), coalesce(:medium, ''),
               coalesce(:campaign, ''), 1, 0, 0, 0
        FROM new
        ON CONFLICT (shop_id, day, utm_source, utm_medium, utm_campaign)
        DO UPDATE SET visits = s.visits + 1
        RETURNING 1
    )
    SELECT shop.id, shop.slug, (SELECT count(*) FROM counted) AS first FROM shop
    """
).columns(id=sa.Uuid, slug=sa.String, first=sa.Integer)

_SHOP_SQL = sa.text(
    "SELECT id, slug FROM vendors WHERE referral_code = :code AND status = 'active'"
).columns(id=sa.Uuid, slug=sa.String)


def shop_for_code(code: str | None) -> tuple[uuid.UUID, str] | None:
    """(id, slug) of the active shop whose current code this is (an old code matches nothing)."""
    code = normalize_code(code)
    if code is None:
        return None
    row = db.session.execute(_SHOP_SQL, {"code": code}).first()
    return (row.id, row.slug) if row else None


def record_visit(
    code: str | None, session_id: str, utm: Utm = Utm(), at: datetime | None = None
) -> Visit | None:
    """The visitor ``session_id`` followed the shop's link: their first touch of it is recorded
    and counted; a revisit changes nothing. None for an unknown code or a shop not active."""
    code = normalize_code(code)
    if code is None:
        return None
    at = at or utcnow()
    row = db.session.execute(
        _VISIT_SQL,
        {
            "code": code,
            "session_id": session_id,
            "source": utm.source,
            "medium": utm.medium,
            "campaign": utm.campaign,
            "at": as_utc(at).replace(tzinfo=None),
            "day": stat_day(at),
        },
    ).first()
    if row is None:
        return None
    return Visit(row.id, row.slug, bool(row.first))


def stat_day(at: datetime) -> date:
    """The statistics' day of a moment: its UTC date (as money months are UTC months)."""
    return as_utc(at).date()


# --- tying visits to a customer --------------------------------------------------------------


def tie_visitor(session_id: str | None, customer_id: uuid.UUID | None) -> int:
    """The visitor's visits nobody claimed yet now belong to the customer (sign-in, sign-up):
    their later orders from those shops are attributed from any device. A visit already tied to
    someone (a shared computer) stays theirs. Returns how many were tied."""
    if not session_id or customer_id is None:
        return 0
    from .buffer import remember_tie

    remember_tie(session_id, customer_id)  # for visits still on their way through Redis
    return db.session.execute(
        sa.update(ShopReferral)
        .where(ShopReferral.session_id == session_id, ShopReferral.customer_id.is_(None))
        .values(customer_id=customer_id),
        execution_options={"synchronize_session": False},
    ).rowcount


def tie_user(session_id: str | None, user) -> int:
    """:func:`tie_visitor` for a signed-in user: only customers buy, so only theirs are tied."""
    if not session_id or user is None or getattr(user, "role", None) != "customer":
        return 0
    from ..customers.models import Customer

    customer_id = db.session.scalar(sa.select(Customer.id).where(Customer.user_id == user.id))
    return tie_visitor(session_id, customer_id)


def tie_order(order) -> int:
    """An order placed naming a visitor cookie (a storefront's ``referral_session``, the portal's
    own checkout) ties that visitor's visits to the order's customer."""
    return tie_visitor(order.referral_session, order.customer_id)


# --- payment and refunds ---------------------------------------------------------------------


def _add_to_stat(
    visit: ShopReferral, *, conversions: int = 0, orders: int = 0, revenue: Decimal = ZERO
) -> None:
    key = {
        "shop_id": visit.shop_id,
        "day": stat_day(visit.first_visit_at),
        "utm_source": visit.utm_source or "",
        "utm_medium": visit.utm_medium or "",
        "utm_campaign": visit.utm_campaign or "",
    }
    statement = insert(ReferralDailyStat).values(
        **key, visits=0, conversions=conversions, orders=orders, revenue=max(revenue, ZERO)
    )
    table = ReferralDailyStat.__table__
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={
                "conversions": table.c.conversions + conversions,
                "orders": table.c.orders + orders,
                # A refund never takes the day's revenue below zero.
                "revenue": sa.func.greatest(table.c.revenue + revenue, 0),
            },
        )
    )


def count_paid_order(order) -> ReferralOrder | None:
    """A paid order the attribution rule gives to one of the shop's referral visits: its
    ``referral_orders`` row (once: a second call changes nothing), the visit converted on its
    first such order, its ``total_orders`` and ``lifetime_value`` (the order's merchandise, the
    amount commissions and volumes are computed on) and the statistics of the visit's day."""
    at = order.paid_at or utcnow()
    visit = attributed_visit(
        order.vendor_id, order.referral_session, order.customer_id, at, lock=True
    )
    if visit is None:
        return None
    value = order.subtotal - order.refunded_subtotal
    claimed = db.session.execute(
        insert(ReferralOrder)
        .values(
            order_id=order.id,
            order_created_at=order.created_at,
            shop_referral_id=visit.id,
            shop_id=order.vendor_id,
            counted_value=value,
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(ReferralOrder.order_id)
    ).first()
    if claimed is None:
        return db.session.get(ReferralOrder, order.id)
    converted = visit.converted_at is None
    if converted:
        visit.converted_at = at
    visit.total_orders += 1
    visit.lifetime_value += value
    if order.customer_id is not None and visit.customer_id is None:
        visit.customer_id = order.customer_id
    _add_to_stat(visit, conversions=int(converted), orders=1, revenue=value)
    db.session.flush()
    return db.session.get(ReferralOrder, order.id)


def count_refund(order, refund) -> Decimal:
    """A refund of an attributed order: its merchandise share comes off the order's counted
    value, the visit's ``lifetime_value`` and the day's revenue, none below zero. The order still
    counts as an order (and the visit as converted). Returns what was subtracted."""
    counted = db.session.scalar(
        sa.select(ReferralOrder)
        .where(ReferralOrder.order_id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if counted is None:
        return ZERO
    amount = min(refund.subtotal_amount, counted.counted_value)
    if amount <= 0:
        return ZERO
    counted.counted_value -= amount
    visit = db.session.scalar(
        sa.select(ShopReferral)
        .where(ShopReferral.id == counted.shop_referral_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    visit.lifetime_value = max(visit.lifetime_value - amount, ZERO)
    _add_to_stat(visit, revenue=-amount)
    db.session.flush()
    return amount


def regenerate_code(vendor: Vendor) -> str:
    """Give the shop a new referral code; the old one stops counting new visits.

    The redirect looks codes up on ``vendors``, so the old code simply no longer matches (within
    ``REFERRAL_CODE_CACHE_SECONDS`` for the link's fast path). Visits already recorded keep the
    code they came through (``shop_referrals.referral_code``), and the daily statistics are per
    shop, so the page's figures carry on across the change.
    """
    vendor.referral_code = new_referral_code()
    db.session.flush()
    return vendor.referral_code
