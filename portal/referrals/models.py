"""Visits that came through a shop's referral link, and what they turned into."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..customers.models import Customer
    from ..vendors.models import Vendor


class ShopReferral(db.Model):
    __tablename__ = "shop_referrals"
    __table_args__ = (
        sa.CheckConstraint("total_orders >= 0", name="total_orders_not_negative"),
        sa.Index("idx_referrals_shop", "shop_id"),
        sa.Index("idx_referrals_customer", "customer_id"),
        sa.Index("idx_referrals_session", "session_id"),
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
