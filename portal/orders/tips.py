"""The customer's tip for the driver, taken with the order (``data.order.driver_tip`` of
``order.placed``, docs/webhooks.md).

Kept in a row of its own (``order_driver_tips``, only for orders with a tip), not in ``orders``:
the tip is outside the order's ``total`` and the refund rule (the money invariant is about the
merchandise; the tip is the driver's, in full), and ``orders`` keeps the columns its archive copy
shares. Carried onto the delivery when it is created at "ready for pickup"
(``deliveries/assignments.py``), whose driver's earnings include it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime
from ..extensions import db
from ..money import to_money
from .models import order_reference

ZERO = Decimal("0.00")
# What delivery_assignments.driver_tip (NUMERIC(6, 2)) holds.
MAX_DRIVER_TIP = Decimal("9999.99")


class OrderDriverTip(db.Model):
    __tablename__ = "order_driver_tips"
    __table_args__ = (
        order_reference(ondelete="CASCADE"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))


class InvalidTip(ValueError):
    """A tip that is negative, above the largest, or not a number of cents."""


def checked_tip(amount: Decimal) -> Decimal:
    tip = to_money(amount)
    if tip != amount or not ZERO <= tip <= MAX_DRIVER_TIP:
        raise InvalidTip(f"The driver tip must be from 0.00 to {MAX_DRIVER_TIP}, in cents.")
    return tip


def record_tip(order, amount: Decimal) -> None:
    """The order's tip (none for 0.00); not committed."""
    tip = checked_tip(amount)
    if tip:
        db.session.add(
            OrderDriverTip(order_id=order.id, order_created_at=order.created_at, amount=tip)
        )


def tip_of(order) -> Decimal:
    return (
        db.session.scalar(
            sa.select(OrderDriverTip.amount).where(OrderDriverTip.order_id == order.id)
        )
        or ZERO
    )
