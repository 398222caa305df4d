"""What the portal keeps of a checkout's Stripe payment (docs/payments.md).

* ``checkout_payments``: one row per checkout (its per-vendor orders share the ``checkout_id``)
  and its one PaymentIntent: the amount asked, the status as the intent has it, the charge, and
  the Stripe ``created`` time of the last event applied, so an older event arriving late never
  moves the payment back.
* ``checkout_payment_refunds``: which Stripe refund (``re_…``) became which order's refund. A
  refund made from Stripe's dashboard on the whole charge is split over the checkout's orders,
  one row per order; an admin's refund of one order through the portal is one row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from ..orders.models import OrderRefund, order_reference

# Stripe's PaymentIntent statuses, and ``failed``: the last attempt was declined (Stripe puts
# the intent back to ``requires_payment_method`` with ``last_payment_error``; the customer may
# try another card, and a later success still counts).
PAYMENT_STATUSES = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "failed",
    "succeeded",
    "canceled",
)


class CheckoutPayment(db.Model):
    __tablename__ = "checkout_payments"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {PAYMENT_STATUSES!r}", name="status"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount", name="refunded_within_amount"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    checkout_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True)
    payment_intent_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    # The sum of the checkout's order totals when the intent was made (what the customer pays).
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    currency: Mapped[str] = mapped_column(sa.CHAR(3))
    status: Mapped[str] = mapped_column(sa.String(30))
    transfer_group: Mapped[str] = mapped_column(sa.String(255))
    latest_charge_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    amount_received: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), server_default="0")
    # What Stripe refunds of the charge so far (``charge.refunded``), whoever made them.
    amount_refunded: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), server_default="0")
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))
    # Stripe's ``created`` of the last payment_intent.* event applied (out-of-order safety).
    last_event_created: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )


class CheckoutPaymentRefund(db.Model):
    __tablename__ = "checkout_payment_refunds"
    __table_args__ = (
        order_reference(ondelete="CASCADE"),
        sa.UniqueConstraint("stripe_refund_id", "order_id", name="unique_refund_share"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    checkout_payment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("checkout_payments.id", ondelete="CASCADE"), index=True
    )
    stripe_refund_id: Mapped[str] = mapped_column(sa.String(255))
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_refund_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("order_refunds.id", ondelete="CASCADE"), unique=True
    )
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    order_refund: Mapped[OrderRefund] = relationship()
