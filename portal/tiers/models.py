"""Shop tiers (the commission a shop pays) and the monthly sales volumes they are set from."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User
    from ..vendors.models import Vendor

SHOP_TIERS = ("bronze", "silver", "gold")


class ShopTier(db.Model):
    __tablename__ = "shop_tiers"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", name="unique_shop_tier"),
        sa.CheckConstraint(f"tier IN {SHOP_TIERS!r}", name="tier"),
        sa.CheckConstraint(f"earned_tier IN {SHOP_TIERS!r}", name="earned_tier"),
        sa.CheckConstraint(
            "commission_rate >= 0 AND commission_rate <= 1", name="commission_rate_range"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    tier: Mapped[str] = mapped_column(sa.String(10))
    # The tier the shop's own sales earned; ``tier`` differs from it only during a promotion.
    earned_tier: Mapped[str] = mapped_column(sa.String(10), server_default=SHOP_TIERS[0])
    commission_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    monthly_sales: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    is_promotional: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    promotional_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promotional_reason: Mapped[str | None] = mapped_column(sa.String(50))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    shop: Mapped[Vendor] = relationship(back_populates="tier")


class VendorMonthlyVolume(db.Model):
    __tablename__ = "vendor_monthly_volumes"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "year", "month", name="unique_vendor_month"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    year: Mapped[int] = mapped_column(sa.Integer)
    month: Mapped[int] = mapped_column(sa.Integer)
    total_sales: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), server_default="0")
    total_orders: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    fee_tier: Mapped[str | None] = mapped_column(sa.String(20))
    average_order_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    vendor: Mapped[Vendor] = relationship()


sa.Index(
    "idx_volume_vendor_date",
    VendorMonthlyVolume.vendor_id,
    VendorMonthlyVolume.year.desc(),
    VendorMonthlyVolume.month.desc(),
)


TIER_CHANGE_REASONS = ("month_close", "promotion_granted", "promotion_expired")


class TierChange(db.Model):
    """Each change of a shop's tier, and who made it: the tier history and the grant audit."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        sa.CheckConstraint(f"reason IN {TIER_CHANGE_REASONS!r}", name="reason"),
        sa.Index("idx_tier_changes_vendor_date", "vendor_id", sa.text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    from_tier: Mapped[str | None] = mapped_column(sa.String(10))
    to_tier: Mapped[str] = mapped_column(sa.String(10))
    commission_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    reason: Mapped[str] = mapped_column(sa.String(30))
    is_promotional: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    promotional_reason: Mapped[str | None] = mapped_column(sa.String(50))
    promotional_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The admin who granted a promotion; NULL for the month-end close and expiries.
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    # The month whose close made this change (year, month of the month closed).
    period_year: Mapped[int | None] = mapped_column(sa.Integer)
    period_month: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    vendor: Mapped[Vendor] = relationship()
    changed_by: Mapped[User | None] = relationship()


MONTH_CLOSE_STATUSES = ("queued", "running", "done", "failed")


class MonthClose(db.Model):
    """One month-end close: its progress while it runs, and what it changed."""

    __tablename__ = "month_closes"
    __table_args__ = (
        sa.UniqueConstraint("year", "month", name="unique_month_close"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        sa.CheckConstraint(f"status IN {MONTH_CLOSE_STATUSES!r}", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    year: Mapped[int] = mapped_column(sa.Integer)
    month: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="queued")
    progress: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    step: Mapped[str | None] = mapped_column(sa.String(100))
    job_id: Mapped[str | None] = mapped_column(sa.String(255))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    runs: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    summary: Mapped[dict | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
