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
from . import numbers, refund_rule, states
from .models import Order, OrderExternalRef, OrderItem, OrderRefund

ZERO = Decimal("0.00")
#: The refund a cancellation after payment records for what was left of the customer's money.
CANCELLATION_REFUND_REF = "cancellation"


class OrderError(ValueError):
    """An order event that cannot be applied (bad amounts, or a state it does not fit)."""


class InvalidOrder(OrderError):
    """The event itself is wrong: amounts that don't add up, an unknown vendor or order, a refund
    above what is left. Sending it again will not help."""


class OrderStateConflict(OrderError):
    """The event does not fit the order's state: paid twice, completed before paid, ..."""


@dataclass(frozen=True)
class LineItem:
    """A line of an order being placed, whichever way it came (webhook, seed, storefront)."""

    title: str
    quantity: int
    unit_price: Decimal
    product_id: uuid.UUID | None = None
    sku: str | None = None


@dataclass(frozen=True)
class RefundItem:
    """A line a refund names: by the order line's id (admin page), its product id or its SKU."""

    quantity: int
    sku: str | None = None
    product_id: uuid.UUID | None = None
    order_item_id: uuid.UUID | None = None

    @property
    def label(self) -> str:
        if self.order_item_id is not None:
            return f"line {self.order_item_id}"
        return f"product {self.product_id}" if self.product_id else f"SKU {self.sku}"


# --- effects of other areas ----------------------------------------------------------------------
# Points (``loyalty/points.py``) and, later, referral conversions happen at these moments, inside
# the same transaction; referrals' hooks still do nothing until their issue fills them in.


def hold_points_redemption(
    order: Order, *, pay_with_points: bool = False, points_hold: str | None = None
) -> None:
    """Back ``order.points_discount`` with the customer's points: a hold taken now (an order
    placed with points, ``pay_with_points``) or one an outside storefront took before
    (``points_hold``). Neither: the discount is the marketplace's, as it always was."""
    from ..loyalty import points

    if not pay_with_points and points_hold is None:
        return
    if order.points_discount <= 0:
        raise InvalidOrder("An order paid with points needs a points discount.")
    try:
        if points_hold is not None:
            points.attach_hold(order, points_hold)
        else:
            points.hold_for_order(order)
    except points.PointsError as refused:
        raise InvalidOrder(str(refused)) from None


def release_points_hold(order: Order) -> None:
    """A canceled order that was never paid gives its held points back."""
    from ..loyalty import points

    points.release_for_order(order)


def attribute_referral(order: Order) -> None:
    """No-op for now (referrals issue): a referred customer's first order sets ``converted_at``."""


def earn_points(order: Order) -> None:
    """Payment spends the order's held points and makes its earned points pending."""
    from ..loyalty import points

    points.redeem_for_order(order, order.paid_at)
    points.earn_on_payment(order, order.paid_at)


def count_referral_order(order: Order) -> None:
    """No-op for now (referrals issue): the referral's ``lifetime_value`` and ``total_orders``."""


def reverse_points(order: Order, refund: OrderRefund) -> None:
    """Claw back what the refunded merchandise earned and return redeemed points in proportion."""
    from ..loyalty import points

    points.reverse_for_refund(order, refund, refund.created_at)


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
    external_number: str | None = None,
    currency: str = "USD",
    referral_session: str | None = None,
    expected_subtotal: Decimal | None = None,
    expected_total: Decimal | None = None,
    pay_with_points: bool = False,
    points_hold: str | None = None,
) -> Order:
    """Record a pending order for one vendor, with its line items and totals, under the shop's
    next order number (``numbers.py``).

    The subtotal is the sum of the lines; a storefront that states its own ``expected_subtotal``
    or ``expected_total`` has them checked against it. An order from an external storefront
    (``external_id``) gets its ``(source, external_id)`` reference, which refuses it twice, and
    keeps the storefront's own order number (``external_number``) to show beside the shop's.
    The points discount is backed by the customer's points when the order is placed with them
    (``pay_with_points``) or names an outside storefront's hold (``points_hold``); otherwise it
    is a discount the marketplace funds.
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
        number=numbers.next_number(vendor_id),
        checkout_id=checkout_id or uuid.uuid4(),
        vendor_id=vendor_id,
        customer_id=customer_id,
        source=source,
        external_id=external_id,
        external_number=external_number,
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
    numbers.record_number(order)
    if external_id is not None:
        _claim_external_id(order, source, external_id)
    hold_points_redemption(order, pay_with_points=pay_with_points, points_hold=points_hold)
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


def _move(order: Order, action: str, status: str, at: datetime) -> None:
    """Take ``action`` to ``status``, or ``OrderStateConflict`` saying why not (``states.py``)."""
    refused = states.refusal(order, action)
    if refused:
        raise OrderStateConflict(refused)
    order.status = status
    order.updated_at = at


# --- payment and completion ----------------------------------------------------------------------


def mark_paid(order: Order, at: datetime | None = None) -> Order:
    """Paid: commission record and platform fee (pending) at the rates in force at ``at``, the
    month's volume and the shop's monthly sales."""
    at = at or utcnow()
    order = lock_order(order)
    _move(order, "pay", "paid", at)
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
    _move(order, "complete", "completed", at)
    order.completed_at = at
    db.session.flush()
    return order


def mark_delivered(order: Order, at: datetime | None = None) -> Order:
    """Handed over at the door (the delivery reached ``delivered``): ``delivered_at``, from which
    the return window runs (``completion.counts_as_completed_at``), and the status ``delivered``
    for a paid order (a partly refunded or completed one keeps its status). Money and points
    follow the completion rule, so nothing else is written here. The storefront's later
    ``order.completed`` is still accepted. Delivered twice: the first time stands."""
    at = at or utcnow()
    order = lock_order(order)
    if order.delivered_at is not None:
        return order
    refused = states.refusal(order, "deliver")
    if refused:
        raise OrderStateConflict(refused)
    order.delivered_at = at
    if order.status in ("paid", "fulfilled"):
        order.status = "delivered"
    order.updated_at = at
    db.session.flush()
    return order


# --- cancellation and refunds --------------------------------------------------------------------


def cancel_order(
    order: Order,
    at: datetime | None = None,
    reason: str | None = None,
    *,
    by: str = "system",
    actor=None,
) -> Order:
    """Cancel: a pending order simply ends; a paid one is refunded whatever is left of it first
    (the refund rule's "everything left"), so every money effect is reversed. A completed order
    is refunded, not canceled.

    ``reason`` (the shop's, or the storefront's) is kept in ``cancel_reason``. The order's
    delivery is cancelled, or turned back to the shop once our driver picked it up; with a
    provider's courier carrying it, ``OrderStateConflict`` (``deliveries.order_cancel``). ``by``
    and ``actor`` are who canceled, for the delivery's history.
    """
    from ..deliveries.order_cancel import DeliveryInHand, cancel_order_delivery

    at = at or utcnow()
    order = lock_order(order)
    _move(order, "cancel", "canceled", at)
    try:
        cancel_order_delivery(order, reason=reason, source=by, actor=actor, at=at)
    except DeliveryInHand as refused:
        raise OrderStateConflict(str(refused)) from None
    if order.paid_at is not None:
        state = refund_state(order)
        if state.money_left > 0 or state.merchandise_left > 0:
            share = refund_rule.pro_rata_share(state, state.money_left)
            _record_refund(order, share, CANCELLATION_REFUND_REF, "order canceled", at)
    else:
        release_points_hold(order)
    order.canceled_at = at
    if reason:
        order.cancel_reason = reason[:255]
    db.session.flush()
    return order


def refund_state(order: Order) -> refund_rule.RefundState:
    """The order's amounts and what has been refunded of them (the delivery part from its
    refunds)."""
    delivery = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(OrderRefund.delivery_amount), 0)).where(
            OrderRefund.order_id == order.id, OrderRefund.order_created_at == order.created_at
        )
    )
    return refund_rule.RefundState(
        subtotal=order.subtotal,
        delivery_fee=order.delivery_fee,
        points_discount=order.points_discount,
        total=order.total,
        refunded_amount=order.refunded_amount,
        refunded_subtotal=order.refunded_subtotal,
        refunded_delivery=to_money(delivery),
    )


def quote_refund(
    order: Order, items: Iterable[RefundItem] = (), delivery_amount: Decimal | None = None
) -> refund_rule.RefundShare:
    """What a refund naming ``items`` and ``delivery_amount`` returns, by the refund rule; or
    ``InvalidOrder`` saying what does not fit."""
    allocation = _allocate(order, items)
    merchandise = sum((line.unit_price * quantity for line, quantity in allocation), ZERO)
    try:
        return refund_rule.named_share(
            refund_state(order), to_money(merchandise), to_money(delivery_amount or ZERO)
        )
    except refund_rule.RefundDoesNotFit as error:
        raise InvalidOrder(str(error)) from None


def refund_order(
    order: Order,
    amount: Decimal,
    refund_ref: str,
    reason: str | None = None,
    at: datetime | None = None,
    *,
    items: Iterable[RefundItem] = (),
    delivery_amount: Decimal | None = None,
) -> OrderRefund:
    """Refund ``amount`` of the customer's money, by the refund rule (``refund_rule.py``).

    A refund that names ``items`` (lines and quantities) and/or a ``delivery_amount`` returns
    exactly those: ``amount`` must be what they come to, to the cent. One that names nothing is
    spread pro rata over the merchandise and delivery fee left. Either way: an ``order_refunds``
    row with its merchandise share and delivery part, the lines' refunded quantities, a reversing
    commission and fee pair with the sale's rates (the sale's rows are never edited, settled or
    paid), a smaller month's volume, and the order ``partially_refunded`` or ``refunded``. The
    same ``refund_ref`` with the same amount again returns the first refund and changes nothing.
    """
    at = at or utcnow()
    amount = to_money(amount)
    items = tuple(items)
    named = bool(items) or delivery_amount is not None
    if amount < 0 or (amount == 0 and not named):
        raise InvalidOrder("A refund needs an amount above zero.")
    order = lock_order(order)
    existing = recorded_refund(order, refund_ref)
    if existing is not None:
        if existing.amount != amount:
            raise OrderStateConflict(f"refund {refund_ref} was recorded with another amount")
        return existing
    refused = states.refusal(order, "refund")
    if refused:
        raise OrderStateConflict(refused)
    allocation = _allocate(order, items)
    if named:
        share = quote_refund(order, items, delivery_amount)
        if share.amount != amount:
            raise InvalidOrder(
                f"amount {amount} does not add up: the lines named come to "
                f"{share.amount - share.delivery} (their merchandise {share.merchandise} less "
                f"their part of the points discount) and the delivery part to {share.delivery}, "
                f"so the amount must be {share.amount}"
            )
        if share.amount == 0 and share.merchandise == 0:
            raise InvalidOrder("The refund names nothing to refund.")
    else:
        try:
            share = refund_rule.pro_rata_share(refund_state(order), amount)
        except refund_rule.RefundDoesNotFit as error:
            raise InvalidOrder(str(error)) from None
    over = (
        order.total - order.refunded_amount == share.amount
        and order.subtotal - order.refunded_subtotal == share.merchandise
    )
    _move(order, "refund", "refunded" if over else "partially_refunded", at)
    return _record_refund(order, share, refund_ref, reason, at, allocation)


def recorded_refund(order: Order, refund_ref: str) -> OrderRefund | None:
    """The order's refund recorded under ``refund_ref``, if any (a refund applies once)."""
    return db.session.scalar(
        sa.select(OrderRefund).where(
            OrderRefund.order_id == order.id, OrderRefund.refund_ref == refund_ref
        )
    )


def _allocate(order: Order, items: Iterable[RefundItem]) -> list[tuple[OrderItem, int]]:
    """The order's lines the refund names, with how many of each; ``InvalidOrder`` for a line the
    order does not have or more of one than is left to refund."""
    taken: dict[uuid.UUID, int] = {}
    allocation: list[tuple[OrderItem, int]] = []
    for item in items:
        if isinstance(item.quantity, bool) or not isinstance(item.quantity, int):
            raise InvalidOrder(f"{item.label}: the quantity must be a whole number")
        if item.quantity <= 0:
            raise InvalidOrder(f"{item.label}: the quantity must be at least one")
        lines = [line for line in order.items if _names(item, line)]
        if not lines:
            raise InvalidOrder(f"the order has no {item.label}")
        wanted = item.quantity
        left = sum(line.quantity_left - taken.get(line.id, 0) for line in lines)
        if wanted > left:
            bought = sum(line.quantity for line in lines)
            label = lines[0].title if item.order_item_id is not None else item.label
            raise InvalidOrder(
                f"{label}: {wanted} named, but {bought} bought and {left} left to refund"
            )
        for line in lines:
            quantity = min(wanted, line.quantity_left - taken.get(line.id, 0))
            if quantity > 0:
                taken[line.id] = taken.get(line.id, 0) + quantity
                allocation.append((line, quantity))
                wanted -= quantity
    return allocation


def _names(item: RefundItem, line: OrderItem) -> bool:
    if item.order_item_id is not None:
        return line.id == item.order_item_id
    if item.product_id is not None:
        return line.product_id == item.product_id
    return item.sku is not None and line.sku == item.sku


def _record_refund(
    order: Order,
    share: refund_rule.RefundShare,
    refund_ref: str,
    reason: str | None,
    at: datetime,
    allocation: list[tuple[OrderItem, int]] | None = None,
) -> OrderRefund:
    """The refund row and every money effect of it; the order's status is the caller's."""
    merchandise_before = order.refunded_subtotal
    merchandise_after = merchandise_before + share.merchandise
    refund = OrderRefund(
        id=uuid.uuid4(),
        order_id=order.id,
        order_created_at=order.created_at,
        refund_ref=refund_ref,
        amount=share.amount,
        subtotal_amount=share.merchandise,
        delivery_amount=share.delivery,
        items=[_named_line(line, quantity) for line, quantity in allocation or ()] or None,
        reason=reason,
        created_at=at,
    )
    db.session.add(refund)
    for line, quantity in allocation or ():
        line.refunded_quantity += quantity
    if merchandise_after >= order.subtotal:
        # All the merchandise is back, whichever way: every line counts as refunded.
        for line in order.items:
            line.refunded_quantity = line.quantity
    order.refunded_amount += share.amount
    order.refunded_subtotal = merchandise_after
    order.updated_at = at
    db.session.flush()
    commissions.record_refund(order, refund, merchandise_before, merchandise_after, at)
    volumes.record_refunded_merchandise(order, share.merchandise, merchandise_before)
    reverse_points(order, refund)
    return refund


def _named_line(line: OrderItem, quantity: int) -> dict:
    return {
        "order_item_id": str(line.id),
        "sku": line.sku,
        "product_id": str(line.product_id) if line.product_id else None,
        "title": line.title,
        "quantity": quantity,
        "merchandise": str(to_money(line.unit_price * quantity)),
    }
