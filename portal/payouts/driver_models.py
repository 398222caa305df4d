"""What drivers earn and how it is paid (migration 0029; docs/payouts.md "Drivers are paid").

* ``driver_earnings``: one row per delivered delivery of a driver, written by the delivered effect
  in its transaction (unique on the delivery, so a step replayed adds nothing): pay plus tip,
  ``pending`` until it settles (``DRIVER_EARNINGS_SETTLE_DAYS`` after delivery), ``settled`` until
  a payout run pays it, then ``paid`` with the payout's id.
* ``driver_payout_holds`` / ``payout_run_driver_holds``: why a run did not pay a driver, now and
  as each run found it (the drivers' side of ``payout_holds`` / ``payout_run_holds``).
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

if TYPE_CHECKING:
    from ..deliveries.models import DeliveryAssignment, Driver
    from .models import Payout

EARNING_STATUSES = ("pending", "settled", "paid")
# A vendor's reasons but the admin's pause and a negative net: earnings are never negative.
DRIVER_HOLD_REASONS = (
    "no_account",
    "payouts_disabled",
    "transfers_inactive",
    "below_minimum",
    "platform_balance",
)

#: A driver's hold in words (the driver's page, the admin's run page).
DRIVER_HOLD_WORDS = {
    "no_account": "the driver has not set up payouts with Stripe yet",
    "payouts_disabled": "Stripe has not enabled payouts on the driver's account",
    "transfers_inactive": "Stripe has not activated transfers on the driver's account",
    "below_minimum": "the amount is below the minimum payout",
    "platform_balance": "the marketplace's Stripe balance does not cover it yet",
}


class DriverEarning(db.Model):
    __tablename__ = "driver_earnings"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {EARNING_STATUSES!r}", name="status"),
        sa.CheckConstraint(
            "pay >= 0 AND tip >= 0 AND amount = pay + tip", name="amount_is_pay_plus_tip"
        ),
        sa.UniqueConstraint("delivery_id", name="unique_earning_per_delivery"),
        sa.Index("idx_driver_earnings_driver", "driver_id", sa.text("delivered_at DESC")),
        sa.Index(
            "idx_driver_earnings_unpaid",
            "status",
            "delivered_at",
            postgresql_where=sa.text("status IN ('pending', 'settled')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    driver_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("drivers.id"))
    # NULL once the delivery went with its archived order (portal/operations/order_archive.py).
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("delivery_assignments.id"))
    pay: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    tip: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payout_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payouts.id"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    driver: Mapped[Driver] = relationship()
    delivery: Mapped[DeliveryAssignment] = relationship()
    payout: Mapped[Payout | None] = relationship()


def _reasons() -> sa.CheckConstraint:
    return sa.CheckConstraint(f"reason IN {DRIVER_HOLD_REASONS!r}", name="reason")


class DriverPayoutHold(db.Model):
    """Why a driver's settled earnings wait, as the last run found it (no row: not held)."""

    __tablename__ = "driver_payout_holds"
    __table_args__ = (_reasons(),)

    driver_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("drivers.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(sa.String(30))
    held_since: Mapped[datetime] = mapped_column(UTCDateTime)
    reason_since: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_waiting: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    record_count: Mapped[int] = mapped_column(sa.Integer)
    last_run_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payout_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )


class PayoutRunDriverHold(db.Model):
    """A driver a run held, with the reason and the amount then waiting."""

    __tablename__ = "payout_run_driver_holds"
    __table_args__ = (_reasons(),)

    run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("payout_runs.id", ondelete="CASCADE"), primary_key=True
    )
    driver_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("drivers.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(30))
    amount_waiting: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    record_count: Mapped[int] = mapped_column(sa.Integer)
