"""Stripe Connect accounts of vendors, and the payouts that settle their commission records."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..commissions.models import CommissionRecord
    from ..vendors.models import Vendor


class ConnectedAccount(db.Model):
    __tablename__ = "connected_accounts"
    __table_args__ = (sa.UniqueConstraint("vendor_id", name="unique_vendor_account"),)

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    stripe_account_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    account_type: Mapped[str] = mapped_column(sa.String(20))
    capabilities: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    charges_enabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    payouts_enabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    requirements: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    vendor: Mapped[Vendor] = relationship(back_populates="connected_account")


class Payout(db.Model):
    __tablename__ = "payouts"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.Index("idx_payouts_vendor", "vendor_id"),
        sa.Index("idx_payouts_batch", "batch_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    batch_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # shared by one payout run
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    vendor_type: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    commission_ids: Mapped[list[uuid.UUID] | None] = mapped_column(postgresql.ARRAY(sa.Uuid))
    stripe_transfer_id: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    vendor: Mapped[Vendor] = relationship()
    commission_records: Mapped[list[CommissionRecord]] = relationship(back_populates="payout")
