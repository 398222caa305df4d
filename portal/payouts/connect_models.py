"""What the portal keeps of Stripe Connect beside ``connected_accounts`` (docs/payouts.md).

* ``stripe_onboarding``: one row per vendor, claimed before the connected account is created, so
  a double click or a second tab reuses the same idempotency key (and waits on the row's lock)
  instead of creating a second account. It also keeps what ``connected_accounts`` has no column
  for: whether the details were submitted, and when the account was disconnected.
* ``stripe_events``: the id of every webhook event handled; a replay finds its id and does nothing.
* ``vendor_bank_payouts``: what Stripe's payouts from a vendor's connected account to the vendor's
  own bank did (``payout.*`` events on the Connect endpoint), for the vendor's page.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime
from ..extensions import db

WEBHOOK_ENDPOINTS = ("platform", "connect")


class StripeOnboarding(db.Model):
    __tablename__ = "stripe_onboarding"
    # A vendor's claim or a driver's (migration 0029), one per holder.
    __table_args__ = (
        sa.CheckConstraint("num_nonnulls(vendor_id, driver_id) = 1", name="one_holder"),
    )

    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), unique=True
    )
    driver_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("drivers.id", ondelete="CASCADE"), unique=True
    )
    # The Idempotency-Key of the account's creation: every attempt of this holder sends it.
    idempotency_key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    stripe_account_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    claimed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    details_submitted: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StripeEvent(db.Model):
    __tablename__ = "stripe_events"
    __table_args__ = (sa.CheckConstraint(f"endpoint IN {WEBHOOK_ENDPOINTS!r}", name="endpoint"),)

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # evt_…
    endpoint: Mapped[str] = mapped_column(sa.String(20))
    type: Mapped[str] = mapped_column(sa.String(100))
    account: Mapped[str | None] = mapped_column(sa.String(255))
    stripe_created: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    handled: Mapped[bool] = mapped_column(sa.Boolean)  # False: acknowledged, no handler


class VendorBankPayout(db.Model):
    __tablename__ = "vendor_bank_payouts"
    __table_args__ = (
        sa.Index("idx_vendor_bank_payouts_vendor", "vendor_id", sa.text("created DESC")),
    )

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # po_…
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"))
    stripe_account_id: Mapped[str] = mapped_column(sa.String(255))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    arrival_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )
