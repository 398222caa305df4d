"""Refunds of a checkout's payment, both ways (docs/payments.md, "Refunds").

* **From the portal**: an admin's refund of one order (``orders/refund_desk.py``, the refund
  rule) is sent to Stripe as a refund of the checkout's PaymentIntent for that refund's amount,
  in the same transaction: the order refund is recorded (flushed), Stripe is asked, and only
  then is it committed. When Stripe does not refund, ``StripeRefundFailed`` rolls everything
  back. The idempotency key is the order refund's own (order id and its ``refund_ref``, the
  form's token), so a resend never refunds twice; the Stripe refund carries the order and the
  ref in its ``metadata``, so ``charge.refunded`` knows it as the portal's.
* **From Stripe** (``charge.refunded``, e.g. a refund made in Stripe's dashboard): each refund of
  the charge not yet applied becomes order refunds: one of the portal's own (its ``metadata``)
  on its order, if the portal's transaction did not record it; any other is split over the
  checkout's orders in proportion to their subtotals (``split.split_within``: no order above
  what is left to refund of it), each share through the refund rule.

Both hold the checkout payment's row lock first, so they never apply one refund twice.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from ..extensions import db
from ..orders import services, states
from ..orders.models import Order, OrderRefund
from ..orders.services import OrderError
from ..payouts.gateway import Refund, StripeGatewayError, gateway
from .intents import checkout_orders, payment_of_checkout
from .models import CheckoutPayment, CheckoutPaymentRefund
from .split import ZERO, split_within

log = logging.getLogger(__name__)

APPLIED = ("succeeded", "pending")  # a failed or canceled refund returned nothing


class StripeRefundFailed(OrderError):
    """Stripe did not make the refund; nothing of it is kept."""


def stripe_payment_for(order: Order) -> CheckoutPayment | None:
    """The succeeded Stripe payment of the order's checkout, locked; None when the order was
    not paid through Stripe (an outside storefront's order, say)."""
    payment = payment_of_checkout(order.checkout_id, lock=True)
    return payment if payment is not None and payment.status == "succeeded" else None


def refund_key(refund: OrderRefund) -> str:
    return f"portal-refund-{refund.order_id}-{refund.refund_ref}"


def refund_through_stripe(payment: CheckoutPayment, order: Order, refund: OrderRefund) -> None:
    """Send the recorded ``refund`` of ``order`` to Stripe and link it; ``StripeRefundFailed``
    with the reason when Stripe did not refund (the caller rolls back)."""
    if refund.amount == 0:
        return  # points only: no money of the card's to return
    try:
        made = gateway().create_refund(
            payment_intent=payment.payment_intent_id,
            amount=refund.amount,
            idempotency_key=refund_key(refund),
            metadata={
                "checkout_id": str(payment.checkout_id),
                "portal_order_id": str(order.id),
                "portal_refund_ref": refund.refund_ref,
            },
            reason="requested_by_customer",
        )
    except StripeGatewayError as error:
        raise StripeRefundFailed(
            f"Stripe did not refund the customer: {error.message} Nothing was refunded or "
            "recorded; try again later."
        ) from error
    _link(payment, made, order, refund)
    payment.amount_refunded += made.amount


def _link(payment: CheckoutPayment, made: Refund, order: Order, refund: OrderRefund) -> None:
    db.session.add(
        CheckoutPaymentRefund(
            checkout_payment_id=payment.id,
            stripe_refund_id=made.id,
            order_id=order.id,
            order_created_at=order.created_at,
            order_refund_id=refund.id,
            amount=refund.amount,
        )
    )
    db.session.flush()


def stripe_refund_of(refund: OrderRefund) -> str | None:
    """The Stripe refund (``re_…``) an order refund went out as, if any."""
    return db.session.scalar(
        sa.select(CheckoutPaymentRefund.stripe_refund_id).where(
            CheckoutPaymentRefund.order_refund_id == refund.id
        )
    )


def apply_stripe_refunds(payment: CheckoutPayment, charge_id: str) -> None:
    """Every refund Stripe has of the charge, oldest first, applied once (``payment`` locked)."""
    made = [r for r in reversed(gateway().list_refunds(charge=charge_id)) if r.status in APPLIED]
    applied = set(
        db.session.scalars(
            sa.select(CheckoutPaymentRefund.stripe_refund_id).where(
                CheckoutPaymentRefund.checkout_payment_id == payment.id
            )
        )
    )
    for refund in made:
        if refund.id not in applied:
            _apply(payment, refund)
    payment.amount_refunded = min(payment.amount, sum((r.amount for r in made), ZERO))


def _apply(payment: CheckoutPayment, made: Refund) -> None:
    own = made.metadata.get("portal_order_id")
    if own:
        _apply_own(payment, made, uuid.UUID(own), made.metadata.get("portal_refund_ref") or made.id)
        return
    orders = checkout_orders(payment.checkout_id)
    rooms = [_room(order) for order in orders]
    amount = min(made.amount, sum(rooms, ZERO))
    if amount < made.amount:
        log.warning("Stripe refund %s: %s of %s fits the orders", made.id, amount, made.amount)
    shares = split_within(amount, [order.subtotal for order in orders], rooms)
    for order, share in zip(orders, shares, strict=True):
        if share > 0:
            refund = services.refund_order(
                order, share, made.id, f"refunded in Stripe ({made.id})", made.created
            )
            _link(payment, made, order, refund)


def _apply_own(payment: CheckoutPayment, made: Refund, order_id: uuid.UUID, ref: str) -> None:
    """A refund the portal asked for, whose transaction did not keep it (it died after Stripe
    answered): recorded now under the same ref, so the admin's resend finds it."""
    order = db.session.get(Order, order_id)
    if order is None or order.checkout_id != payment.checkout_id:
        log.warning("Stripe refund %s names order %s, not of this checkout", made.id, order_id)
        return
    refund = services.recorded_refund(order, ref)
    if refund is None:
        refund = services.refund_order(
            order, made.amount, ref, f"refunded in Stripe ({made.id})", made.created
        )
    _link(payment, made, order, refund)


def _room(order: Order):
    """What is left to refund of the order's money (none once it cannot be refunded)."""
    if states.refusal(order, "refund"):
        return ZERO
    return services.refund_state(order).money_left
