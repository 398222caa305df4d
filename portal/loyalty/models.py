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
TRANSACTION_TYPES = ("earned", "redeemed", "expired", "adjusted")


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
