"""The one order-intake service: apply an order event, once, with every effect, or not at all.

An event is identified by ``(source, event_id)``. Its row in ``order_events`` is inserted first
(``ON CONFLICT DO NOTHING``): when it is there already the event is a replay, the answer is
"duplicate" and nothing changes. Otherwise the event is applied through ``services.py`` (which locks
the order row, so concurrent events for one order serialize) inside a savepoint: an ``OrderError``
rolls back the event row and every effect together, so a corrected retry can still be applied.
The service flushes; the caller commits (or rolls back).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..auth import services as accounts
from ..catalog.models import Product
from ..customers.services import create_customer_profile, customer_for_user
from ..extensions import db
from ..vendors.models import Vendor
from . import services, tips
from .models import Order, OrderEvent
from .services import InvalidOrder, LineItem, OrderStateConflict, RefundItem

ORDER_EVENT_TYPES = (
    "order.placed",
    "order.paid",
    "order.completed",
    "order.canceled",
    "order.refunded",
)


@dataclass(frozen=True)
class IncomingOrder:
    """What ``order.placed`` says about the order (the other events need only ``external_id``)."""

    external_id: str
    vendor_id: uuid.UUID
    checkout_id: uuid.UUID
    customer_email: str
    customer_name: str | None
    currency: str
    items: tuple[LineItem, ...]
    subtotal: Decimal
    delivery_fee: Decimal
    points_discount: Decimal
    total: Decimal
    referral_session: str | None = None
    dropoff_address: dict[str, Any] | None = None
    # The customer's tip for the driver (``driver_tip``, optional): not part of ``total``.
    driver_tip: Decimal = Decimal("0")
    # The storefront's own order number as its customers know it (``#R-2044``), if it sends one.
    order_number: str | None = None
    # The reference of the points hold the storefront took (``/webhooks/points/holds``): the
    # discount is then paid with the customer's points; without one it is the marketplace's.
    points_hold: str | None = None


@dataclass(frozen=True)
class IncomingRefund:
    refund_id: str
    amount: Decimal
    reason: str | None = None
    # What the refund names (docs/webhooks.md); naming nothing spreads it pro rata.
    items: tuple[RefundItem, ...] = ()
    delivery_amount: Decimal | None = None


@dataclass(frozen=True)
class IncomingEvent:
    source: str
    event_id: str
    type: str
    occurred_at: datetime
    external_id: str
    order: IncomingOrder | None = None
    refund: IncomingRefund | None = None
    payload: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class IntakeResult:
    status: str  # "processed" or "duplicate"
    order: Order | None = None


def apply_order_event(event: IncomingEvent) -> IntakeResult:
    """Apply one order event with all its effects in one transaction, idempotently.

    Raises ``InvalidOrder`` (the event is wrong) or ``OrderStateConflict`` (it does not fit the
    order's state); either way nothing of it stays in the session.
    """
    if event.type not in HANDLERS:
        raise InvalidOrder(f"unknown event type {event.type!r}")
    with db.session.begin_nested():
        if not _record_event(event):
            return IntakeResult("duplicate")
        order = HANDLERS[event.type](event)
        db.session.execute(
            sa.update(OrderEvent)
            .where(OrderEvent.source == event.source, OrderEvent.event_id == event.event_id)
            .values(order_id=order.id)
        )
    return IntakeResult("processed", order)


def _record_event(event: IncomingEvent) -> bool:
    """Insert the event's log row; False when it was applied before (a replay)."""
    inserted = db.session.execute(
        insert(OrderEvent)
        .values(
            source=event.source,
            event_id=event.event_id,
            type=event.type,
            payload=event.payload,
        )
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(OrderEvent.event_id)
    ).first()
    return inserted is not None


# --- one handler per event type ------------------------------------------------------------------


def _place(event: IncomingEvent) -> Order:
    incoming = event.order
    if incoming is None:
        raise InvalidOrder("order.placed needs data.order")
    if services.find_external_order(event.source, incoming.external_id, lock=False) is not None:
        raise OrderStateConflict(f"order {incoming.external_id} was placed already")
    if db.session.get(Vendor, incoming.vendor_id) is None:
        raise InvalidOrder("unknown vendor")
    customer = customer_for_order(incoming.customer_email, incoming.customer_name)
    order = services.place_order(
        vendor_id=incoming.vendor_id,
        items=[_line_item(incoming.vendor_id, item) for item in incoming.items],
        customer_id=customer.id,
        checkout_id=incoming.checkout_id,
        delivery_fee=incoming.delivery_fee,
        points_discount=incoming.points_discount,
        dropoff_address=incoming.dropoff_address,
        placed_at=event.occurred_at,
        source=event.source,
        external_id=incoming.external_id,
        external_number=incoming.order_number,
        currency=incoming.currency,
        referral_session=incoming.referral_session,
        expected_subtotal=incoming.subtotal,
        expected_total=incoming.total,
        points_hold=incoming.points_hold,
    )
    try:
        tips.record_tip(order, incoming.driver_tip)
    except tips.InvalidTip as refused:
        raise InvalidOrder(str(refused)) from refused
    return order


def _existing_order(event: IncomingEvent) -> Order:
    order = services.find_external_order(event.source, event.external_id)
    if order is None:
        raise InvalidOrder(f"unknown order {event.external_id}")
    return order


def _pay(event: IncomingEvent) -> Order:
    return services.mark_paid(_existing_order(event), event.occurred_at)


def _complete(event: IncomingEvent) -> Order:
    return services.complete_order(_existing_order(event), event.occurred_at)


def _cancel(event: IncomingEvent) -> Order:
    return services.cancel_order(_existing_order(event), event.occurred_at)


def _refund(event: IncomingEvent) -> Order:
    if event.refund is None:
        raise InvalidOrder("order.refunded needs data.refund")
    order = _existing_order(event)
    refund = event.refund
    services.refund_order(
        order,
        refund.amount,
        refund.refund_id,
        refund.reason,
        event.occurred_at,
        items=refund.items,
        delivery_amount=refund.delivery_amount,
    )
    return order


HANDLERS = {
    "order.placed": _place,
    "order.paid": _pay,
    "order.completed": _complete,
    "order.canceled": _cancel,
    "order.refunded": _refund,
}


# --- who and what the storefront refers to -------------------------------------------------------


def customer_for_order(email: str, name: str | None):
    """The customer profile of the account with this email, created when there is none.

    A new buyer gets a customer account with the unusable password marker: it cannot sign in
    until the owner of the address claims it (sign-up or password reset mails the claim link).
    """
    user = accounts.find_user_by_email(email)
    if user is None:
        user = accounts.create_user(email, None, "customer")
    customer = customer_for_user(user)
    if customer is None:
        # Also for a vendor's, driver's or admin's address buying as a customer: the order keeps
        # the person, though only customer accounts can open the customer pages.
        customer = create_customer_profile(user, full_name=name or email.split("@", 1)[0])
    return customer


def _line_item(vendor_id: uuid.UUID, item: LineItem) -> LineItem:
    """A line linked to the vendor's product: by the portal's product id, else by SKU if known."""
    product_id = item.product_id
    if product_id is not None:
        owned = db.session.scalar(
            sa.select(Product.id).where(Product.id == product_id, Product.vendor_id == vendor_id)
        )
        if owned is None:
            raise InvalidOrder(f"unknown product {product_id} for this vendor")
    elif item.sku:
        # An SKU the portal doesn't list stays on the line as text: the storefront may sell more.
        product_id = db.session.scalar(
            sa.select(Product.id).where(Product.vendor_id == vendor_id, Product.sku == item.sku)
        )
    return dataclasses.replace(item, product_id=product_id)
