"""Order intake: every order enters here, whichever storefront it came from.

This first version records orders and moves them through their states. The money effects of each
state (commissions, fees, volumes, points, referrals) attach here, so every way in gets them alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from ..extensions import db
from ..money import to_money
from .models import Order, OrderItem

# Which status may follow which; anything else is refused.
TRANSITIONS = {
    "pending": {"paid", "canceled"},
    "paid": {"fulfilled", "delivered", "completed", "canceled", "refunded", "partially_refunded"},
    "fulfilled": {"delivered", "completed", "refunded", "partially_refunded"},
    "delivered": {"completed", "refunded", "partially_refunded"},
    "completed": {"refunded", "partially_refunded"},
    "partially_refunded": {"refunded", "partially_refunded", "completed"},
    "canceled": set(),
    "refunded": set(),
}


class OrderError(ValueError):
    """An order event that cannot be applied (bad amounts, or a state it does not fit)."""


@dataclass(frozen=True)
class LineItem:
    title: str
    quantity: int
    unit_price: Decimal
    product_id: uuid.UUID | None = None
    sku: str | None = None


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def place_order(
    *,
    vendor_id: uuid.UUID,
    items: Iterable[LineItem],
    customer_id: uuid.UUID | None = None,
    checkout_id: uuid.UUID | None = None,
    delivery_fee: Decimal = Decimal("0"),
    points_discount: Decimal = Decimal("0"),
    dropoff_address: dict | None = None,
    placed_at: datetime | None = None,
) -> Order:
    """Record a pending order for one vendor, with its line items and totals."""
    placed_at = placed_at or utcnow()
    lines = [
        OrderItem(
            product_id=item.product_id,
            sku=item.sku,
            title=item.title,
            quantity=item.quantity,
            unit_price=to_money(item.unit_price),
            line_total=to_money(to_money(item.unit_price) * item.quantity),
        )
        for item in items
    ]
    if not lines:
        raise OrderError("An order needs at least one item.")
    if any(line.quantity <= 0 for line in lines):
        raise OrderError("Every item needs a quantity of at least one.")
    subtotal = sum((line.line_total for line in lines), Decimal("0"))
    delivery_fee, points_discount = to_money(delivery_fee), to_money(points_discount)
    if points_discount > subtotal:
        raise OrderError("The points discount cannot exceed the merchandise subtotal.")
    order = Order(
        id=uuid.uuid4(),
        checkout_id=checkout_id or uuid.uuid4(),
        vendor_id=vendor_id,
        customer_id=customer_id,
        status="pending",
        subtotal=subtotal,
        delivery_fee=delivery_fee,
        points_discount=points_discount,
        total=subtotal + delivery_fee - points_discount,
        refunded_amount=Decimal("0"),
        dropoff_address=dropoff_address,
        created_at=placed_at,
        updated_at=placed_at,
        items=lines,
    )
    db.session.add(order)
    db.session.flush()
    return order


def _move(order: Order, status: str, at: datetime) -> None:
    if status not in TRANSITIONS[order.status]:
        raise OrderError(f"An order that is {order.status} cannot become {status}.")
    order.status = status
    order.updated_at = at


def mark_paid(order: Order, at: datetime | None = None) -> Order:
    at = at or utcnow()
    _move(order, "paid", at)
    order.paid_at = at
    db.session.flush()
    return order


def complete_order(order: Order, at: datetime | None = None) -> Order:
    at = at or utcnow()
    _move(order, "completed", at)
    order.completed_at = at
    db.session.flush()
    return order


def cancel_order(order: Order, at: datetime | None = None) -> Order:
    at = at or utcnow()
    _move(order, "canceled", at)
    order.canceled_at = at
    db.session.flush()
    return order
