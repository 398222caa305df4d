"""Orders: one per vendor, partitioned by month on ``created_at``.

PostgreSQL needs the partition key in a partitioned table's primary key, so the table's key is
``(id, created_at)`` and every reference to an order carries ``order_created_at`` beside
``order_id``. The ORM still identifies an order by ``id`` alone (``__mapper_args__``), so
``db.session.get(Order, id)`` works; ids come from ``gen_random_uuid()`` and are unique in practice
across partitions.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User
    from ..catalog.models import Product
    from ..customers.models import Customer
    from ..vendors.models import Vendor

ORDER_STATUSES = (
    "pending",
    "paid",
    "fulfilled",
    "delivered",
    "completed",
    "canceled",
    "refunded",
    "partially_refunded",
)


def order_checks() -> tuple[sa.CheckConstraint, ...]:
    """The money and status checks shared by ``orders`` and ``archived_orders``."""
    return (
        sa.CheckConstraint(f"status IN {ORDER_STATUSES!r}", name="status"),
        sa.CheckConstraint(
            "subtotal >= 0 AND delivery_fee >= 0 AND points_discount >= 0 AND total >= 0",
            name="amounts_not_negative",
        ),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= total", name="refund_within_total"
        ),
        sa.CheckConstraint(
            "refunded_subtotal >= 0 AND refunded_subtotal <= subtotal",
            name="refunded_subtotal_within_subtotal",
        ),
    )


class OrderColumns:
    """The columns of an order, shared by ``orders`` and its unpartitioned copy ``archived_orders``.

    Each table declares its own primary key: ``orders`` needs the partition key in it.
    """

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, server_default=sa.text("gen_random_uuid()"))
    # A checkout spanning several vendors makes one order per vendor sharing this id.
    checkout_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customers.id"))
    source: Mapped[str] = mapped_column(sa.String(20), server_default="portal")
    external_id: Mapped[str | None] = mapped_column(sa.String(255))
    # The shop's own order number (#1042), allocated at placement (``numbers.py``); unique per
    # shop through ``vendor_order_numbers``.
    number: Mapped[int] = mapped_column(sa.Integer)
    # The external storefront's own order number as its customers know it, when it sends one.
    external_number: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    currency: Mapped[str] = mapped_column(sa.CHAR(3), server_default="USD")
    subtotal: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    delivery_fee: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    points_discount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    total: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    refunded_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    # The merchandise share of ``refunded_amount``: what commissions, fees and volumes follow.
    refunded_subtotal: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    dropoff_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    referral_session: Mapped[str | None] = mapped_column(sa.String(255))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The shop's own handling: it accepted the order, then had it ready for pickup.
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Handed over at the door (the delivery reached "delivered"): the return window starts here.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )


class Order(OrderColumns, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        # The partition key has to be part of the primary key.
        sa.PrimaryKeyConstraint("id", "created_at"),
        *order_checks(),
        sa.Index("idx_orders_checkout", "checkout_id"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )
    __mapper_args__ = {"primary_key": ["id"]}

    vendor: Mapped[Vendor] = relationship()
    customer: Mapped[Customer | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Order #{self.number} {self.id} {self.status}>"

    @property
    def label(self) -> str:
        """How every page and file names the order: the shop's number, ``#1042``."""
        return f"#{self.number}"

    @property
    def storefront_label(self) -> str | None:
        """The external storefront's own name for the order, shown beside ``label``: its order
        number when it sent one, else its order id; None for the portal's own orders."""
        if self.external_number:
            return self.external_number
        return self.external_id


sa.Index("idx_orders_vendor_date", Order.vendor_id, Order.created_at.desc())
# Paid orders not completed (nor canceled): the admin's list of orders waiting on automatic
# completion, and settlement's search for them, read only these few.
sa.Index(
    "idx_orders_awaiting_completion",
    Order.paid_at,
    postgresql_where=sa.and_(
        Order.paid_at.is_not(None), Order.completed_at.is_(None), Order.canceled_at.is_(None)
    ),
)
sa.Index(
    "idx_orders_customer_date",
    Order.customer_id,
    Order.created_at.desc(),
    postgresql_where=Order.customer_id.is_not(None),
)


def order_reference(*, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """The composite foreign key every table that points at an order needs."""
    return sa.ForeignKeyConstraint(
        ["order_id", "order_created_at"], ["orders.id", "orders.created_at"], ondelete=ondelete
    )


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (
        order_reference(ondelete="CASCADE"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0 AND line_total >= 0", name="amounts_not_negative"),
        sa.CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name="refunded_quantity_within_quantity",
        ),
        sa.Index("idx_order_items_order", "order_id", "order_created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    product_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("products.id"))
    sku: Mapped[str | None] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    line_total: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    # How many of the line refunds named so far (a refund that names nothing leaves it alone).
    refunded_quantity: Mapped[int] = mapped_column(sa.Integer, server_default="0")

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def quantity_left(self) -> int:
        return self.quantity - self.refunded_quantity

    product: Mapped[Product | None] = relationship()


class OrderExternalRef(db.Model):
    """Makes an external storefront's order id unique per source across all partitions.

    A unique constraint on ``orders (source, external_id)`` would have to include ``created_at``,
    which would let the same external order in twice with different dates.
    """

    __tablename__ = "order_external_refs"
    __table_args__ = (order_reference(ondelete="CASCADE"),)

    source: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()


class VendorOrderNumber(db.Model):
    """Makes a shop's order numbers unique across all partitions, and finds an order by number.

    ``orders (vendor_id, number)`` cannot be unique without ``created_at`` (the partition key), as
    for ``order_external_refs``. ``orders.number`` keeps the number for display; this row is
    written in the same transaction (``numbers.py``).
    """

    __tablename__ = "vendor_order_numbers"
    __table_args__ = (
        sa.PrimaryKeyConstraint("vendor_id", "number"),
        sa.UniqueConstraint("order_id", name="unique_numbered_order"),
        order_reference(ondelete="CASCADE"),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    number: Mapped[int] = mapped_column(sa.Integer)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VendorOrderCounter(db.Model):
    """The last order number a shop gave out; placing an order takes the next one.

    One row per shop, incremented with ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: two
    orders placed at once for one shop wait for each other on this row and never share a number.
    """

    __tablename__ = "vendor_order_counters"

    vendor_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(sa.Integer)


class OrderEvent(db.Model):
    """An order event already applied: intake is idempotent per (source, event id).

    No foreign key to ``orders``: the log must outlive an order's archiving.
    """

    __tablename__ = "order_events"

    source: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(40))
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )


class OrderRefund(db.Model):
    """One refund of an order, full or partial; its commission and fee reversals point here."""

    __tablename__ = "order_refunds"
    __table_args__ = (
        order_reference(ondelete="CASCADE"),
        sa.UniqueConstraint("order_id", "refund_ref", name="unique_order_refund"),
        # Zero is allowed: canceling an order paid entirely with points still reverses its rows.
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        # The merchandise share may exceed the money refunded when points paid part of the goods.
        sa.CheckConstraint("subtotal_amount >= 0", name="subtotal_amount_not_negative"),
        sa.CheckConstraint("delivery_amount >= 0", name="delivery_amount_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The storefront's or payment processor's refund id; makes a replayed refund a no-op.
    refund_ref: Mapped[str] = mapped_column(sa.String(255))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    subtotal_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    # The part of ``amount`` that returns the delivery fee (named, or its pro-rata share).
    delivery_amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    # The lines the refund named: [{"order_item_id", "sku", "product_id", "quantity",
    # "merchandise"}]; NULL for a refund that named none (pro rata).
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    order: Mapped[Order] = relationship()


class OrderHold(db.Model):
    """An admin keeps a paid order from counting as completed after ``ORDER_AUTO_COMPLETE_DAYS``.

    One row per hold, kept after release: who held it and why, who released it and when (the
    audit). At most one hold of an order is open (``released_at`` NULL) at a time.
    """

    __tablename__ = "order_holds"
    __table_args__ = (
        order_reference(ondelete="CASCADE"),
        sa.Index(
            "unique_open_order_hold",
            "order_id",
            unique=True,
            postgresql_where=sa.text("released_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(255))
    held_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    held_by: Mapped[User] = relationship(foreign_keys=[held_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])


class OrderDispute(db.Model):
    """A customer's dispute of an order's payment: while open, it holds that order's records back
    from payouts, and only those (portal/payouts). Stripe's ``charge.dispute.*`` events fill it."""

    __tablename__ = "order_disputes"
    __table_args__ = (
        order_reference(ondelete="CASCADE"),
        sa.CheckConstraint("status IN ('open', 'won', 'lost')", name="status"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.Index(
            "idx_order_disputes_open", "order_id", postgresql_where=sa.text("status = 'open'")
        ),
        # One Stripe dispute of a checkout's charge is split over its vendors' orders.
        sa.UniqueConstraint("stripe_dispute_id", "order_id", name="unique_dispute_share"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stripe_dispute_id: Mapped[str | None] = mapped_column(sa.String(255))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    reason: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
