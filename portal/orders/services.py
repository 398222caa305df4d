"""Order intake's effects: every order enters and moves through these functions.

The signed webhook (``intake.py``), the demo seed and, later, the portal's own storefront all call
them, so an order gets the same effects whichever way it came (PRODUCT.md, "What follows from an
order"): on payment the commission record and platform fee at the rates in force, the monthly
volume and the shop's monthly sales; on a refund or a cancellation after payment, reversing rows
and smaller volumes. Each function locks the order row first, so concurrent events for one order
apply one after the other. They flush and never commit: the caller commits, or rolls back on
``OrderError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..clock import utcnow
from ..commissions import services as commissions
from ..extensions import db
from ..money import to_money
from ..tiers import volumes
from ..vendors.models import Vendor
from .models import Order, OrderExternalRef, OrderItem, OrderRefund

ZERO = Decimal("0.00")
#: The refund a cancellation after payment records for what was left of the customer's money.
CANCELLATION_REFUND_REF = "cancellation"

# Which status may follow which; anything else is refused. A refund or a cancellation also checks
# the amounts and whether the order was paid (see refund_order, cancel_order).
TRANSITIONS = {
    "pending": {"paid", "canceled"},
    "paid": {"fulfilled", "delivered", "completed", "canceled", "refunded", "partially_refunded"},
    "fulfilled": {"delivered", "completed", "canceled", "refunded", "partially_refunded"},
    "delivered": {"completed", "canceled", "refunded", "partially_refunded"},
    "completed": {"refunded", "partially_refunded"},
    "partially_refunded": {"refunded", "partially_refunded", "completed", "canceled"},
    "canceled": set(),
    "refunded": set(),
}


class OrderError(ValueError):
    """An order event that cannot be applied (bad amounts, or a state it does not fit)."""


class InvalidOrder(OrderError):
    """The event itself is wrong: amounts that don't add up, an unknown vendor or order, a refund
    above what is left. Sending it again will not help."""


class OrderStateConflict(OrderError):
    """The event does not fit the order's state: paid twice, completed before paid, ..."""


@dataclass(frozen=True)
class LineItem:
    title: str
    quantity: int
    unit_price: Decimal
    product_id: uuid.UUID | None = None
    sku: str | None = None


# --- effects that belong to later issues ---------------------------------------------------------
# Loyalty points and referral conversions have no services yet. These hooks are called at the
# right moment, inside the same transaction, and deliberately do nothing until those issues fill
# them in; nothing else in intake has to change then.


def hold_points_redemption(order: Order) -> None:
    """No-op for now (loyalty issue): hold the points that paid ``order.points_discount``."""


def attribute_referral(order: Order) -> None:
    """No-op for now (referrals issue): a referred customer's first order sets ``converted_at``."""


def earn_points(order: Order) -> None:
    """No-op for now (loyalty issue): pending points on the merchandise, earned after the window."""


def count_referral_order(order: Order) -> None:
    """No-op for now (referrals issue): the referral's ``lifetime_value`` and ``total_orders``."""


def reverse_points(order: Order, refund: OrderRefund) -> None:
    """No-op for now (loyalty issue): claw back points earned on the refunded merchandise and
    return redeemed points."""


# --- placing -------------------------------------------------------------------------------------


def place_order(
    *,
    vendor_id: uuid.UUID,
    items: Iterable[LineItem],
    customer_id: uuid.UUID | None = None,
    checkout_id: uuid.UUID | None = None,
    delivery_fee: Decimal = ZERO,
    points_discount: Decimal = ZERO,
    dropoff_address: dict | None = None,
    placed_at: datetime | None = None,
    source: str = "portal",
    external_id: str | None = None,
    currency: str = "USD",
    referral_session: str | None = None,
    expected_subtotal: Decimal | None = None,
    expected_total: Decimal | None = None,
) -> Order:
    """Record a pending order for one vendor, with its line items and totals.

    The subtotal is the sum of the lines; a storefront that states its own ``expected_subtotal``
    or ``expected_total`` has them checked against it. An order from an external storefront
    (``external_id``) gets its ``(source, external_id)`` reference, which refuses it twice.
    """
    placed_at = placed_at or utcnow()
    if db.session.get(Vendor, vendor_id) is None:
        raise InvalidOrder("unknown vendor")
    lines = [_line(item) for item in items]
    if not lines:
        raise InvalidOrder("An order needs at least one item.")
    subtotal = sum((line.line_total for line in lines), ZERO)
    delivery_fee, points_discount = to_money(delivery_fee), to_money(points_discount)
    if delivery_fee < 0 or points_discount < 0:
        raise InvalidOrder("Delivery fee and points discount cannot be negative.")
    if points_discount > subtotal:
        raise InvalidOrder("The points discount cannot exceed the merchandise subtotal.")
    total = subtotal + delivery_fee - points_discount
    if expected_subtotal is not None and to_money(expected_subtotal) != subtotal:
        raise InvalidOrder(f"subtotal {expected_subtotal} is not the sum of the items ({subtotal})")
    if expected_total is not None and to_money(expected_total) != total:
        raise InvalidOrder(
            f"total {expected_total} is not subtotal + delivery_fee - points_discount ({total})"
        )
    order = Order(
        id=uuid.uuid4(),
        checkout_id=checkout_id or uuid.uuid4(),
        vendor_id=vendor_id,
        customer_id=customer_id,
        source=source,
        external_id=external_id,
        status="pending",
        currency=currency,
        subtotal=subtotal,
        delivery_fee=delivery_fee,
        points_discount=points_discount,
        total=total,
        refunded_amount=ZERO,
        refunded_subtotal=ZERO,
        dropoff_address=dropoff_address,
        referral_session=referral_session,
        created_at=placed_at,
        updated_at=placed_at,
        items=lines,
    )
    db.session.add(order)
    db.session.flush()
    if external_id is not None:
        _claim_external_id(order, source, external_id)
    hold_points_redemption(order)
    attribute_referral(order)
    return order


def _line(item: LineItem) -> OrderItem:
    if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) or item.quantity <= 0:
        raise InvalidOrder("Every item needs a whole quantity of at least one.")
    unit_price = to_money(item.unit_price)
    if unit_price < 0:
        raise InvalidOrder("A unit price cannot be negative.")
    return OrderItem(
        product_id=item.product_id,
        sku=item.sku,
        title=item.title,
        quantity=item.quantity,
        unit_price=unit_price,
        line_total=to_money(unit_price * item.quantity),
    )


def _claim_external_id(order: Order, source: str, external_id: str) -> None:
    # ON CONFLICT: two storefront events racing to place the same order cannot both win.
    claimed = db.session.execute(
        insert(OrderExternalRef)
        .values(
            source=source,
            external_id=external_id,
            order_id=order.id,
            order_created_at=order.created_at,
        )
        .on_conflict_do_nothing()
        .returning(OrderExternalRef.order_id)
    ).first()
    if claimed is None:
        raise OrderStateConflict(f"order {external_id} was placed already")


def find_external_order(source: str, external_id: str, *, lock: bool = True) -> Order | None:
    """The order an external storefront knows as ``external_id``, locked for update."""
    query = (
        sa.select(Order)
        .join(
            OrderExternalRef,
            sa.and_(
                OrderExternalRef.order_id == Order.id,
                OrderExternalRef.order_created_at == Order.created_at,
            ),
        )
        .where(OrderExternalRef.source == source, OrderExternalRef.external_id == external_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=Order)
    return db.session.scalar(query)


def lock_order(order: Order) -> Order:
    """Lock the order's row until the transaction ends and reload it, so a concurrent event for
    the same order waits and then sees this one's result."""
    locked = db.session.scalar(
        sa.select(Order)
        .where(Order.id == order.id, Order.created_at == order.created_at)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise InvalidOrder("unknown order")
    return locked


def _move(order: Order, status: str, at: datetime) -> None:
    if status not in TRANSITIONS[order.status]:
        raise OrderStateConflict(f"An order that is {order.status} cannot become {status}.")
    order.status = status
    order.updated_at = at


# --- payment and completion ----------------------------------------------------------------------


def mark_paid(order: Order, at: datetime | None = None) -> Order:
    """Paid: commission record and platform fee (pending) at the rates in force at ``at``, the
    month's volume and the shop's monthly sales."""
    at = at or utcnow()
    order = lock_order(order)
    _move(order, "paid", at)
    order.paid_at = at
    db.session.flush()
    commissions.record_sale(order, at)
    volumes.record_paid_order(order)
    earn_points(order)
    count_referral_order(order)
    return order


def complete_order(order: Order, at: datetime | None = None) -> Order:
    """Completed: starts the return window; commissions stay pending until it has passed."""
    at = at or utcnow()
    order = lock_order(order)
    if order.completed_at is not None:
        raise OrderStateConflict("The order was completed already.")
    _move(order, "completed", at)
    order.completed_at = at
    db.session.flush()
    return order


# --- cancellation and refunds --------------------------------------------------------------------


def cancel_order(order: Order, at: datetime | None = None, reason: str | None = None) -> Order:
    """Cancel: a pending order simply ends; a paid one is refunded whatever is left of it first,
    so every money effect is reversed. A completed order is refunded, not canceled.

    ``reason`` (the shop's, or the storefront's) is kept in ``cancel_reason``.
    """
    at = at or utcnow()
    order = lock_order(order)
    if order.completed_at is not None:
        raise OrderStateConflict("A completed order cannot be canceled; refund it instead.")
    _move(order, "canceled", at)
    if order.paid_at is not None:
        left = order.total - order.refunded_amount
        if left > 0 or order.refunded_subtotal < order.subtotal:
            _record_refund(order, left, CANCELLATION_REFUND_REF, "order canceled", at)
    order.canceled_at = at
    if reason:
        order.cancel_reason = reason[:255]
    db.session.flush()
    return order


def refund_order(
    order: Order,
    amount: Decimal,
    refund_ref: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> OrderRefund:
    """Refund ``amount`` of the customer's money (full or partial), once per ``refund_ref``.

    Writes an ``order_refunds`` row with its merchandise share, a reversing commission and fee
    pair with the sale's rates (the sale's rows are never edited, settled or paid), reduces the
    month's volume and moves the order to ``partially_refunded`` or ``refunded``. The same
    ``refund_ref`` with the same amount again returns the first refund and changes nothing.
    """
    at = at or utcnow()
    amount = to_money(amount)
    if amount <= 0:
        raise InvalidOrder("A refund needs an amount above zero.")
    order = lock_order(order)
    existing = db.session.scalar(
        sa.select(OrderRefund).where(
            OrderRefund.order_id == order.id, OrderRefund.refund_ref == refund_ref
        )
    )
    if existing is not None:
        if existing.amount != amount:
            raise OrderStateConflict(f"refund {refund_ref} was recorded with another amount")
        return existing
    if order.paid_at is None or order.status == "canceled":
        raise OrderStateConflict(f"An order that is {order.status} has no payment to refund.")
    left = order.total - order.refunded_amount
    if amount > left:
        raise InvalidOrder(f"refund {amount} is above what is left to refund ({left})")
    _move(order, "refunded" if amount == left else "partially_refunded", at)
    return _record_refund(order, amount, refund_ref, reason, at)


def _record_refund(
    order: Order, amount: Decimal, refund_ref: str, reason: str | None, at: datetime
) -> OrderRefund:
    """The refund row and every money effect of it; the order's status is the caller's."""
    merchandise_before = order.refunded_subtotal
    merchandise_after = commissions.merchandise_refunded(
        order.subtotal, order.total, order.refunded_amount + amount
    )
    refund = OrderRefund(
        id=uuid.uuid4(),
        order_id=order.id,
        order_created_at=order.created_at,
        refund_ref=refund_ref,
        amount=amount,
        subtotal_amount=merchandise_after - merchandise_before,
        reason=reason,
        created_at=at,
    )
    db.session.add(refund)
    order.refunded_amount += amount
    order.refunded_subtotal = merchandise_after
    order.updated_at = at
    db.session.flush()
    commissions.record_refund(order, refund, merchandise_before, merchandise_after, at)
    volumes.record_refunded_merchandise(
        order, merchandise_after - merchandise_before, merchandise_before
    )
    reverse_points(order, refund)
    return refund
