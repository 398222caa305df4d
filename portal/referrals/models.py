"""Visits that came through a shop's referral link, and what they turned into."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from ..orders.models import order_reference

if TYPE_CHECKING:
    from ..customers.models import Customer
    from ..orders.models import Order
    from ..vendors.models import Vendor


class ShopReferral(db.Model):
    __tablename__ = "shop_referrals"
    __table_args__ = (
        sa.CheckConstraint("total_orders >= 0", name="total_orders_not_negative"),
        sa.Index("idx_referrals_shop", "shop_id"),
        sa.Index("idx_referrals_customer", "customer_id"),
        sa.Index("idx_referrals_session", "session_id"),
        # One first touch per visitor and shop (portal/referrals/visits.py).
        sa.UniqueConstraint("session_id", "shop_id", name="unique_referral_session_shop"),
        # Retention's oldest unconverted rows, a batch at a time (portal/referrals/retention.py).
        sa.Index(
            "idx_referrals_unconverted_first_visit",
            "first_visit_at",
            postgresql_where=sa.text("converted_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customers.id"))
    session_id: Mapped[str | None] = mapped_column(sa.String(255))
    referral_code: Mapped[str | None] = mapped_column(sa.String(50))
    utm_source: Mapped[str | None] = mapped_column(sa.String(100))
    utm_medium: Mapped[str | None] = mapped_column(sa.String(100))
    utm_campaign: Mapped[str | None] = mapped_column(sa.String(100))
    first_visit_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifetime_value: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    total_orders: Mapped[int] = mapped_column(sa.Integer, server_default="0")

    shop: Mapped[Vendor] = relationship()
    customer: Mapped[Customer | None] = relationship()


class ReferralDailyStat(db.Model):
    """Visits, conversions and revenue per shop, day and UTM triple.

    Counted as they happen and never decremented by retention, so any period's figures stay right
    after old unconverted ``shop_referrals`` rows are deleted. A missing UTM value is stored as ''
    so the key stays unique.
    """

    __tablename__ = "referral_daily_stats"

    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    utm_source: Mapped[str] = mapped_column(sa.String(100), primary_key=True, server_default="")
    utm_medium: Mapped[str] = mapped_column(sa.String(100), primary_key=True, server_default="")
    utm_campaign: Mapped[str] = mapped_column(sa.String(100), primary_key=True, server_default="")
    visits: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    conversions: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    orders: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), server_default="0")


class ReferralOrder(db.Model):
    """A paid order attributed to a referral visit, with the value it added.

    The reduced commission rate, the visit's ``total_orders``/``lifetime_value`` and a refund's
    subtraction all read this one row, so an order is attributed once.
    """

    __tablename__ = "referral_orders"
    __table_args__ = (
        order_reference(),
        sa.CheckConstraint("counted_value >= 0", name="counted_value_not_negative"),
        sa.Index("idx_referral_orders_referral", "shop_referral_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shop_referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("shop_referrals.id"))
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    counted_value: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    shop_referral: Mapped[ShopReferral] = relationship()
    order: Mapped[Order] = relationship()


class ReferralMonthlyStat(db.Model):
    """``referral_daily_stats`` summed by month, UTM source and campaign, kept by triggers.

    The referrals page's table reads these rows: a shop's months times its sources and campaigns,
    instead of its days times every UTM triple (two years of a busy link: over 100,000 daily
    rows). Statement-level triggers on ``referral_daily_stats`` and ``shop_referrals`` (migration
    e5a4b6c80035) keep them exact whichever code writes those rows.
    """

    __tablename__ = "referral_monthly_stats"

    shop_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)  # its first day
    utm_source: Mapped[str] = mapped_column(sa.String(100), primary_key=True, server_default="")
    utm_campaign: Mapped[str] = mapped_column(sa.String(100), primary_key=True, server_default="")
    visits: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    conversions: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    orders: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    # The visits converted in the month, and their lifetime values summed: kept by triggers on
    # ``shop_referrals`` (a visit's running total changes with each of its orders and refunds).
    converted_visits: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    lifetime_value: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")


class ReferralShopDay(db.Model):
    """``referral_daily_stats`` summed per shop and day over every UTM triple, and the visits
    converted that day with their lifetime values, kept by the same triggers: the page's totals
    and its weekly chart read a row a day."""

    __tablename__ = "referral_shop_days"

    shop_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    visits: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    conversions: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    orders: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    converted_visits: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    lifetime_value: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
