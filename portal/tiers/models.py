"""Shop tiers (the commission a shop pays) and the monthly sales volumes they are set from."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

if TYPE_CHECKING:
    from ..vendors.models import Vendor

SHOP_TIERS = ("bronze", "silver", "gold")


class ShopTier(db.Model):
    __tablename__ = "shop_tiers"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", name="unique_shop_tier"),
        sa.CheckConstraint(f"tier IN {SHOP_TIERS!r}", name="tier"),
        sa.CheckConstraint(
            "commission_rate >= 0 AND commission_rate <= 1", name="commission_rate_range"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    tier: Mapped[str] = mapped_column(sa.String(10))
    commission_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    monthly_sales: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    is_promotional: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    promotional_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    promotional_reason: Mapped[str | None] = mapped_column(sa.String(50))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime,
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
        sa.DateTime, server_default=sa.func.current_timestamp()
    )

    vendor: Mapped[Vendor] = relationship()


sa.Index(
    "idx_volume_vendor_date",
    VendorMonthlyVolume.vendor_id,
    VendorMonthlyVolume.year.desc(),
    VendorMonthlyVolume.month.desc(),
)
