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
    from ..auth.models import User
    from ..commissions.models import CommissionRecord
    from ..deliveries.models import Driver
    from ..vendors.models import Vendor

# A connected account, a Stripe claim and a payout belong to a vendor or a driver (migration 0029).
ONE_HOLDER = "num_nonnulls(vendor_id, driver_id) = 1"


class ConnectedAccount(db.Model):
    __tablename__ = "connected_accounts"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", name="unique_vendor_account"),
        sa.UniqueConstraint("driver_id", name="unique_driver_account"),
        sa.CheckConstraint(ONE_HOLDER, name="one_holder"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("vendors.id"))
    driver_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("drivers.id"))
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

    vendor: Mapped[Vendor | None] = relationship(back_populates="connected_account")


PAYOUT_STATUSES = ("pending", "waiting", "paid", "failed")
# A transfer to the vendor, or a recovery of a negative net by reversing an earlier transfer.
PAYOUT_KINDS = ("transfer", "recovery")
RUN_TRIGGERS = ("schedule", "admin")
RUN_STATUSES = ("running", "finished", "failed")
# Why a vendor with settled, unpaid records gets no payout from a run (PRODUCT.md "Payouts").
HOLD_REASONS = (
    "no_account",
    "payouts_disabled",
    "transfers_inactive",
    "below_minimum",
    "negative_net",
    "platform_balance",
    "admin_hold",
)


def _in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN {values!r}", name=name)


class PayoutRun(db.Model):
    """One payout run: its id is the ``batch_id`` of the payouts it made."""

    __tablename__ = "payout_runs"
    __table_args__ = (
        _in("trigger", RUN_TRIGGERS, "trigger"),
        _in("status", RUN_STATUSES, "status"),
        sa.Index("idx_payout_runs_started", sa.text("started_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    trigger: Mapped[str] = mapped_column(sa.String(20))
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="running")
    started_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)

    payouts: Mapped[list[Payout]] = relationship(back_populates="run")
    holds: Mapped[list[PayoutRunHold]] = relationship(back_populates="run")


class Payout(db.Model):
    __tablename__ = "payouts"
    __table_args__ = (
        _in("kind", PAYOUT_KINDS, "kind"),
        sa.CheckConstraint(
            "(kind = 'transfer' AND amount >= 0) OR (kind = 'recovery' AND amount < 0)",
            name="amount_by_kind",
        ),
        _in("status", PAYOUT_STATUSES, "status"),
        sa.CheckConstraint(ONE_HOLDER, name="one_holder"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("unmarked_count >= 0", name="unmarked_count_not_negative"),
        sa.CheckConstraint(
            "amount_reversed >= 0 AND amount_reversed <= greatest(amount, 0)",
            name="amount_reversed_range",
        ),
        sa.Index("idx_payouts_vendor", "vendor_id"),
        sa.Index(
            "idx_payouts_driver", "driver_id", postgresql_where=sa.text("driver_id IS NOT NULL")
        ),
        sa.Index(
            "idx_payouts_recovered_from",
            "recovered_from_id",
            postgresql_where=sa.text("recovered_from_id IS NOT NULL"),
        ),
        sa.Index("idx_payouts_batch", "batch_id"),
        # The few payouts whose records are not all marked yet: they claim them (payable.py).
        sa.Index(
            "idx_payouts_unmarked",
            "vendor_id",
            postgresql_where=sa.text("records_marked_at IS NULL"),
        ),
        sa.Index(
            "idx_payouts_unfinished",
            "status",
            postgresql_where=sa.text("status IN ('pending', 'waiting', 'failed')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    # Shared by one payout run; a payout made outside a run (none yet) would have none.
    batch_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payout_runs.id"))
    # A vendor's payout (with its vendor_type), or a driver's (migration 0029).
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("vendors.id"))
    driver_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("drivers.id"))
    vendor_type: Mapped[str | None] = mapped_column(sa.String(20))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    commission_ids: Mapped[list[uuid.UUID] | None] = mapped_column(postgresql.ARRAY(sa.Uuid))
    # A driver's payout lists (and so claims) its driver_earnings rows, as commission_ids do.
    earning_ids: Mapped[list[uuid.UUID] | None] = mapped_column(postgresql.ARRAY(sa.Uuid))
    stripe_transfer_id: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    # The Idempotency-Key of the transfer, saved before the first call and reused on every retry,
    # and when a call with it was first sent: Stripe forgets a key after 24 hours.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    key_first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    # What Stripe reversed of the transfer (the transfer.reversed webhook, or a recovery).
    amount_reversed: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A recovery (migration 0024): the paid payout whose transfer it reverses, and the reversal.
    kind: Mapped[str] = mapped_column(sa.String(20), server_default="transfer")
    recovered_from_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payouts.id"))
    stripe_reversal_id: Mapped[str | None] = mapped_column(sa.String(255))
    # Marking (migration 0032, portal/payouts/marking.py): how many of the listed ids, in list
    # order, carry ``paid`` and this payout's id; once all do, when. Until then the list claims
    # its records, and a paid payout's records read as paid through it.
    records_marked: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    records_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The listed records marking has not written yet (migration 0037): how many, and their
    # Σ order_amount, Σ commission_amount and Σ paired platform fee, as the kept totals
    # (vendor_commission_totals) count them. Written by grouping, lowered by each marking batch
    # in the commit that writes its records: what a page moves from settled to paid (payable.py).
    unmarked_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    unmarked_amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    unmarked_commission: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    unmarked_fee: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    vendor: Mapped[Vendor | None] = relationship()
    driver: Mapped[Driver | None] = relationship()
    run: Mapped[PayoutRun | None] = relationship(back_populates="payouts")
    commission_records: Mapped[list[CommissionRecord]] = relationship(back_populates="payout")


class PayoutHold(db.Model):
    """Why a vendor's settled, unpaid records wait, as the last run found it (none: not held).

    ``held_since`` is when the vendor was first held without a break, ``reason_since`` when the
    reason last changed; ``notified_reason`` is the reason last mailed to the owner, so a hold
    that stays the same is mailed once, not every week.
    """

    __tablename__ = "payout_holds"
    __table_args__ = (_in("reason", HOLD_REASONS, "reason"),)

    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(30))
    held_since: Mapped[datetime] = mapped_column(UTCDateTime)
    reason_since: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_waiting: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    record_count: Mapped[int] = mapped_column(sa.Integer)
    last_run_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payout_runs.id"))
    notified_reason: Mapped[str | None] = mapped_column(sa.String(30))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    vendor: Mapped[Vendor] = relationship()


class PayoutRunHold(db.Model):
    """A vendor a run held, with the reason and the amount then waiting: the run's own record."""

    __tablename__ = "payout_run_holds"
    __table_args__ = (_in("reason", HOLD_REASONS, "reason"),)

    run_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("payout_runs.id", ondelete="CASCADE"), primary_key=True
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(30))
    amount_waiting: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    record_count: Mapped[int] = mapped_column(sa.Integer)

    run: Mapped[PayoutRun] = relationship(back_populates="holds")
    vendor: Mapped[Vendor] = relationship()


class VendorPayoutNotices(db.Model):
    """Which of the payout mails a shop's owner wants (a failed payout is always mailed)."""

    __tablename__ = "vendor_payout_notices"

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    payout_sent: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    hold_changed: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())


class AdminPayoutHold(db.Model):
    """An admin's pause of a shop's payouts, with why, until an admin lifts it (admin_holds.py)."""

    __tablename__ = "admin_payout_holds"

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    note: Mapped[str] = mapped_column(sa.Text)
    placed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    placed_by: Mapped[User | None] = relationship()
