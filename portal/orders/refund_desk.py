"""An admin's refund of an order: the whole order, chosen lines, or the delivery fee.

The same refund rule and service as a storefront's ``order.refunded`` (``services.refund_order``):
the admin picks what is refunded and the rule says how much money that is. The portal records the
refund and its reversals; when the order's checkout was paid through Stripe, the same refund is
sent to Stripe before anything is committed (``portal/payments/refunds.py``). An outside
storefront's order is refunded by that storefront; the portal does not move its money.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..admin import audit
from . import services
from .models import Order, OrderItem, OrderRefund
from .services import InvalidOrder, RefundItem

REFUND_KINDS = (
    ("order", "The whole order (everything left)"),
    ("lines", "Chosen lines"),
    ("delivery", "The delivery fee"),
)


@dataclass(frozen=True)
class RefundDesk:
    """What is left to refund of an order, for the admin's form."""

    order: Order
    lines: list[OrderItem]
    money_left: Decimal
    merchandise_left: Decimal
    delivery_left: Decimal
    # The checkout was paid through Stripe: a refund here refunds the customer's card too.
    paid_through_stripe: bool = False


def refund_desk(order: Order) -> RefundDesk:
    from ..payments.intents import payment_of_checkout

    state = services.refund_state(order)
    lines = sorted(order.items, key=lambda line: (line.title, str(line.id)))
    payment = payment_of_checkout(order.checkout_id)
    return RefundDesk(
        order,
        lines,
        state.money_left,
        state.merchandise_left,
        state.delivery_left,
        paid_through_stripe=payment is not None and payment.status == "succeeded",
    )


def refund_by_admin(
    order: Order,
    *,
    kind: str,
    quantities: dict[uuid.UUID, int],
    reason: str,
    refund_ref: str,
    by,
    at: datetime | None = None,
) -> OrderRefund:
    """Record the admin's refund; ``InvalidOrder`` or ``OrderStateConflict`` saying what does
    not fit. ``refund_ref`` (the form's own token) makes a double submit record it once."""
    from ..payments import refunds as stripe_refunds

    if getattr(by, "role", None) != "admin":
        raise InvalidOrder("Only an admin can refund an order here.")
    # Locked first, as the charge.refunded webhook locks it: the two never apply one refund twice.
    payment = stripe_refunds.stripe_payment_for(order)
    existing = services.recorded_refund(order, refund_ref)
    if existing is not None:
        return existing  # the same form sent twice: one refund, one audit row
    refund = _refund(
        order, kind, quantities, f"{(reason or '').strip()} (by {by.email})"[:255], refund_ref, at
    )
    if payment is not None:
        stripe_refunds.refund_through_stripe(payment, order, refund)
    audit.record(
        "order.refunded",
        "order",
        order.id,
        actor=by,
        label=order.label,
        kind=kind,
        amount=str(refund.amount),
    )
    return refund


def _refund(order: Order, kind: str, quantities, reason: str, refund_ref: str, at):
    state = services.refund_state(order)
    if kind == "order":
        if state.money_left == 0:
            raise InvalidOrder("Nothing of the customer's money is left to refund.")
        return services.refund_order(order, state.money_left, refund_ref, reason, at)
    if kind == "lines":
        items = [
            RefundItem(quantity=quantity, order_item_id=line_id)
            for line_id, quantity in quantities.items()
            if quantity
        ]
        if not items:
            raise InvalidOrder("Choose how many of at least one line to refund.")
        share = services.quote_refund(order, items)
        return services.refund_order(order, share.amount, refund_ref, reason, at, items=items)
    if kind == "delivery":
        if state.delivery_left == 0:
            raise InvalidOrder("Nothing of the delivery fee is left to refund.")
        return services.refund_order(
            order, state.delivery_left, refund_ref, reason, at, delivery_amount=state.delivery_left
        )
    raise InvalidOrder("Choose what to refund.")


def money_returned(refund: OrderRefund) -> str:
    """How the customer's money went back, for the admin's message."""
    from ..payments.refunds import stripe_refund_of

    stripe_id = stripe_refund_of(refund)
    if stripe_id:
        return f"Stripe refunded the customer's card ({stripe_id})."
    return "The portal does not return the customer's payment itself."
