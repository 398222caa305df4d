"""What Stripe's payment events do (the platform webhook endpoint, ``portal/payouts/webhooks.py``,
calls these inside its transaction; the event's id was stored first, so a replay never arrives
here). Events come in any order, so:

* ``payment_intent.*`` moves a checkout payment only forward: ``succeeded`` and ``canceled`` are
  final, and a ``payment_failed`` older than the last event applied is ignored;
* ``charge.refunded`` does not trust the charge it carries: the refunds are read from Stripe,
  and each is applied once (``refunds.apply_stripe_refunds``);
* a dispute's shares are made once, by whichever of ``created`` and ``closed`` comes first.

A handler raises ``StripeGatewayError`` (the webhook answers 503, Stripe sends it again) when it
could not read Stripe; an object it cannot read raises ``KeyError``/``ValueError`` (400).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..money import from_cents
from . import disputes, refunds
from .models import CheckoutPayment
from .paid import on_checkout_paid
from .values import cents, moment

log = logging.getLogger(__name__)

FINAL = ("succeeded", "canceled")
STATUS_OF_EVENT = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "canceled",
}


def locked_payment(*, intent_id: str | None = None, charge_id: str | None = None):
    """The checkout payment of an intent (or, failing that, of a charge), locked until the
    transaction ends: its events and an admin's refund apply one after the other."""
    conditions = []
    if intent_id:
        conditions.append(CheckoutPayment.payment_intent_id == intent_id)
    if charge_id:
        conditions.append(CheckoutPayment.latest_charge_id == charge_id)
    if not conditions:
        return None
    return db.session.scalar(
        sa.select(CheckoutPayment)
        .where(sa.or_(*conditions))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def on_payment_intent(event: dict[str, Any]) -> None:
    intent = event["data"]["object"]
    payment = locked_payment(intent_id=intent["id"])
    if payment is None:
        log.info("PaymentIntent %s is no checkout's; event %s ignored", intent["id"], event["id"])
        return
    status = STATUS_OF_EVENT[event["type"]]
    created = moment(event["created"])
    if payment.status in FINAL:
        return  # final: a late or repeated event changes nothing
    if status == "failed" and payment.last_event_created and created < payment.last_event_created:
        return  # an earlier attempt's failure, after a later event
    payment.last_event_created = max(created, payment.last_event_created or created)
    payment.status = status
    if status == "failed":
        error = intent.get("last_payment_error") or {}
        payment.failure_code = (error.get("decline_code") or error.get("code") or "")[:100] or None
        payment.failure_message = (error.get("message") or "")[:500] or None
    elif status == "canceled":
        payment.canceled_at = moment(intent.get("canceled_at") or event["created"])
    else:
        _succeeded(payment, intent, created)


def _succeeded(payment: CheckoutPayment, intent: dict[str, Any], at: datetime) -> None:
    payment.failure_code = payment.failure_message = None
    charge = intent.get("latest_charge")
    payment.latest_charge_id = charge["id"] if isinstance(charge, dict) else charge
    payment.amount_received = from_cents(cents(intent["amount_received"]))
    payment.paid_at = at
    db.session.flush()
    if payment.amount_received != payment.amount:
        # Never seen with automatic capture; the orders are not paid on a different amount.
        log.error(
            "PaymentIntent %s received %s for a checkout of %s: orders left unpaid",
            payment.payment_intent_id,
            payment.amount_received,
            payment.amount,
        )
        return
    on_checkout_paid(payment.checkout_id, at)


def on_charge_refunded(event: dict[str, Any]) -> None:
    charge = event["data"]["object"]
    payment = locked_payment(intent_id=charge.get("payment_intent"), charge_id=charge["id"])
    if payment is None:
        log.info("charge %s is no checkout's; event %s ignored", charge["id"], event["id"])
        return
    refunds.apply_stripe_refunds(payment, charge["id"])


def on_dispute(event: dict[str, Any]) -> None:
    dispute = event["data"]["object"]
    payment = locked_payment(intent_id=dispute.get("payment_intent"), charge_id=dispute["charge"])
    if payment is None:
        log.info("dispute %s is no checkout's; event %s ignored", dispute["id"], event["id"])
        return
    disputes.apply_dispute(payment, dispute, at=moment(event["created"]))


def refresh_checkout_payment(checkout_id) -> CheckoutPayment | None:
    """Read the checkout's intent from Stripe and apply what it says now, as its event would:
    for a portal that did not hear the webhook (the demo seed runs before the portal serves).
    Stripe's answer is the newest state, so it is applied as of now."""
    from ..clock import utcnow
    from ..payouts.gateway import gateway
    from .intents import payment_of_checkout

    payment = payment_of_checkout(checkout_id)
    if payment is None:
        return None
    intent = gateway().retrieve_payment_intent(payment.payment_intent_id)
    kind = {"succeeded": "succeeded", "canceled": "canceled"}.get(intent.status)
    if kind is None and intent.last_payment_error is not None:
        kind = "payment_failed"
    if kind is not None:
        on_payment_intent(
            {
                "id": f"refresh-{intent.id}",
                "type": f"payment_intent.{kind}",
                "created": int(utcnow().timestamp()),
                "data": {"object": intent.raw},
            }
        )
    return payment_of_checkout(checkout_id)


HANDLERS = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "payment_intent.canceled": on_payment_intent,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute,
    "charge.dispute.closed": on_dispute,
}
