"""Loyalty points: a ledger of transactions and each customer's running balance.

``points_transactions`` is partitioned by year on ``created_at``; see ``portal/orders/models.py``
for why its key is ``(id, created_at)`` and why the ORM still identifies a transaction by ``id``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from ..orders.models import order_reference

if TYPE_CHECKING:
    from ..customers.models import Customer
    from ..orders.models import Order

POINTS_TIERS = ("bronze", "silver", "gold")
# ``clawed_back`` (points a refunded order had earned) and ``returned`` (redeemed points given back
# on a refund) are added to schema-design.md's four types: a documented adaptation, so the ledger
# says what each row is without parsing its reason.
TRANSACTION_TYPES = ("earned", "redeemed", "expired", "adjusted", "clawed_back", "returned")
HOLD_SOURCES = ("order", "external")


class PointsBalance(db.Model):
    """The running total of a customer's ledger."""

    __tablename__ = "points_balances"
    __table_args__ = (
        sa.UniqueConstraint("customer_id", name="unique_customer_balance"),
        sa.CheckConstraint(
            "current_balance >= 0 AND lifetime_earned >= 0 AND lifetime_redeemed >= 0",
            name="balances_not_negative",
        ),
        sa.CheckConstraint(f"tier IN {POINTS_TIERS!r}", name="tier"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    current_balance: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    lifetime_earned: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    lifetime_redeemed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    tier: Mapped[str] = mapped_column(sa.String(20), server_default="bronze")
    tier_progress: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_tier_threshold: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    customer: Mapped[Customer] = relationship(back_populates="points_balance")


class PointsTransaction(db.Model):
    __tablename__ = "points_transactions"
    __table_args__ = (
        order_reference(),
        sa.CheckConstraint(f"type IN {TRANSACTION_TYPES!r}", name="type"),
        sa.CheckConstraint("balance_after >= 0", name="balance_not_negative"),
        # A half-set composite reference would escape the foreign key check (MATCH SIMPLE).
        sa.CheckConstraint(
            "(order_id IS NULL) = (order_created_at IS NULL)", name="order_reference_complete"
        ),
        sa.Index("idx_points_order", "order_id", postgresql_where=sa.text("order_id IS NOT NULL")),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )
    __mapper_args__ = {"primary_key": ["id"]}

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    type: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(255))
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    balance_before: Mapped[int] = mapped_column(sa.Integer)
    balance_after: Mapped[int] = mapped_column(sa.Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, primary_key=True, server_default=sa.func.current_timestamp()
    )

    customer: Mapped[Customer] = relationship()
    order: Mapped[Order | None] = relationship()


sa.Index("idx_points_customer", PointsTransaction.customer_id, PointsTransaction.created_at.desc())


class PointsPendingEarn(db.Model):
    """Points a paid order earned, waiting for its return window to close before they are spendable.

    One row per order; it becomes an ``earned`` ledger row when ``available_at`` passes.
    """

    __tablename__ = "points_pending_earns"
    __table_args__ = (
        order_reference(),
        sa.UniqueConstraint("order_id", name="unique_pending_earn_order"),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.Index("idx_pending_earns_customer", "customer_id"),
        sa.Index("idx_pending_earns_available", "available_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points: Mapped[int] = mapped_column(sa.Integer)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    customer: Mapped[Customer] = relationship()
    order: Mapped[Order] = relationship()


class PointsHold(db.Model):
    """Points set aside for an order not yet paid: spent at payment, deleted when released.

    ``source`` is ``order`` for a hold taken when an order is placed with points, ``external``
    for one an outside storefront asked for (``reference`` is the hold id it was given) before the
    order existed; the order is filled in when its event names the hold.
    """

    __tablename__ = "points_holds"
    __table_args__ = (
        order_reference(),
        sa.UniqueConstraint("order_id", name="unique_hold_order"),
        sa.UniqueConstraint("reference", name="unique_hold_reference"),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.CheckConstraint(f"source IN {HOLD_SOURCES!r}", name="source"),
        sa.CheckConstraint(
            "(order_id IS NULL) = (order_created_at IS NULL)", name="order_reference_complete"
        ),
        sa.Index("idx_holds_customer", "customer_id"),
        sa.Index("idx_holds_expires", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    points: Mapped[int] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.String(20))
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    customer: Mapped[Customer] = relationship()
    order: Mapped[Order | None] = relationship()


class PointsClawbackShortfall(db.Model):
    """What a clawback could not take because the points were already spent.

    The ledger row takes the balance to zero; the rest is recorded here, never in ``amount``.
    """

    __tablename__ = "points_clawback_shortfalls"
    __table_args__ = (
        order_reference(),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.CheckConstraint(
            "(order_id IS NULL) = (order_created_at IS NULL)", name="order_reference_complete"
        ),
        sa.Index("idx_shortfalls_customer", "customer_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    points: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    customer: Mapped[Customer] = relationship()
    order: Mapped[Order | None] = relationship()
