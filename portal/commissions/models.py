"""What the marketplace takes from each order: commission (by shop tier) and platform fee.

``commission_records`` is partitioned by month on ``created_at``; see ``portal/orders/models.py``
for why its key is ``(id, created_at)`` and why the ORM still identifies a record by ``id``.
Refunds are recorded as negative rows, never as edits, so amounts here may be negative.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from ..orders.models import order_reference

if TYPE_CHECKING:
    from ..orders.models import Order
    from ..payouts.models import Payout
    from ..vendors.models import Vendor


#: Which rule gave a commission its rate: the shop's earned tier, a promotional tier an admin
#: granted, or the referral rate (the shop brought the customer).
COMMISSION_BASES = ("tier", "promotional_tier", "referral")


def rate_range(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} >= 0 AND {column} <= 1", name=f"{column}_range")


class CommissionRecord(db.Model):
    __tablename__ = "commission_records"
    __table_args__ = (
        order_reference(),
        rate_range("commission_rate"),
        sa.Index("idx_commission_status", "status", postgresql_where=sa.text("status = 'pending'")),
        sa.Index("idx_commission_order", "order_id"),
        sa.CheckConstraint("status IN ('pending', 'settled', 'paid')", name="status"),
        sa.CheckConstraint(f"commission_basis IN {COMMISSION_BASES!r}", name="commission_basis"),
        sa.Index(
            "idx_commission_payout", "payout_id", postgresql_where=sa.text("payout_id IS NOT NULL")
        ),
        # Deleting an archived refund checks its reversals by this (migration 0038).
        sa.Index(
            "idx_commission_refund", "refund_id", postgresql_where=sa.text("refund_id IS NOT NULL")
        ),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )
    __mapper_args__ = {"primary_key": ["id"]}

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    commission_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    order_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    commission_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    payout_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payouts.id"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, primary_key=True, server_default=sa.func.current_timestamp()
    )
    # Set on a refund's reversing row (negative amounts); NULL on the sale's own row.
    refund_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("order_refunds.id"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rule the rate came from, and the tier it was computed from (NULL for a referral), as the
    # fee row keeps its ``volume_tier``; a reversal copies the sale's.
    commission_basis: Mapped[str] = mapped_column(sa.String(20), server_default="tier")
    commission_tier: Mapped[str | None] = mapped_column(sa.String(10))

    order: Mapped[Order] = relationship()
    shop: Mapped[Vendor] = relationship()
    payout: Mapped[Payout | None] = relationship(back_populates="commission_records")


sa.Index("idx_commission_shop_date", CommissionRecord.shop_id, CommissionRecord.created_at.desc())


class VendorCommissionTotal(db.Model):
    """A shop's commission records summed by status, kept by triggers.

    The vendor dashboard and the statement's totals row read these few rows instead of summing
    every record a large shop has. Database triggers keep them exact whichever code path writes
    the rows: on ``commission_records`` (migration 0005; the amounts since 0012) and on
    ``vendor_platform_fees`` (0012), whose fee counts under the status of its commission record
    (the pair the statement shows as one row: same order, same ``refund_id``).
    """

    __tablename__ = "vendor_commission_totals"

    shop_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    commission_total: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    record_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    # Σ order_amount of the records, and Σ fee_amount of their platform-fee rows.
    amount_total: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    fee_total: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")


class CommissionSummary(db.Model):
    """A shop's commission for one month, once its records are older than the retention window."""

    __tablename__ = "commission_summaries"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "year", "month", name="unique_shop_month"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    year: Mapped[int] = mapped_column(sa.Integer)
    month: Mapped[int] = mapped_column(sa.Integer)
    total_amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    order_count: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    shop: Mapped[Vendor] = relationship()


class VendorPlatformFee(db.Model):
    __tablename__ = "vendor_platform_fees"
    __table_args__ = (
        order_reference(),
        rate_range("fee_percentage"),
        sa.Index("idx_platform_fee_order", "order_id"),
        sa.Index(
            "idx_platform_fee_refund",
            "refund_id",
            postgresql_where=sa.text("refund_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    vendor_type: Mapped[str] = mapped_column(sa.String(20))
    fee_percentage: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    order_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    fee_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    volume_tier: Mapped[str | None] = mapped_column(sa.String(20))
    is_promotional_rate: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    # Pairs the fee row with the commission row of the same sale or refund.
    refund_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("order_refunds.id"))

    vendor: Mapped[Vendor] = relationship()
    order: Mapped[Order] = relationship()


sa.Index(
    "idx_platform_fee_vendor_date", VendorPlatformFee.vendor_id, VendorPlatformFee.created_at.desc()
)
