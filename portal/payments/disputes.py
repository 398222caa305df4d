"""A dispute of a checkout's charge (``charge.dispute.created`` / ``.closed``), on its orders.

One Stripe dispute becomes one ``order_disputes`` row per vendor order of the checkout, the
disputed amount split in proportion to their subtotals (``split.split_within``, no order above
its total). While open, each holds that vendor's records of that order back from payouts
(``portal/payouts/payable.py``); closed, it is ``won`` (Stripe's ``won``, or an inquiry's
``warning_closed``: the hold is released) or ``lost``. Whichever event comes first makes the
rows, with the dispute's status as Stripe has it then; a later ``created`` changes nothing, and a
closed share never opens again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..money import from_cents
from ..orders.models import OrderDispute
from .intents import checkout_orders
from .models import CheckoutPayment
from .split import ZERO, split_within
from .values import cents, moment

# Stripe's dispute statuses, as the order's dispute has them.
CLOSED_AS = {"won": "won", "warning_closed": "won", "lost": "lost"}


def order_status(stripe_status: str) -> str:
    return CLOSED_AS.get(stripe_status, "open")


def apply_dispute(payment: CheckoutPayment, dispute: dict[str, Any], *, at: datetime) -> None:
    """``payment`` is locked by the caller; ``at`` is the event's time."""
    status = order_status(dispute["status"])
    shares = list(
        db.session.scalars(
            sa.select(OrderDispute)
            .where(OrderDispute.stripe_dispute_id == dispute["id"])
            .with_for_update()
        )
    )
    if not shares:
        _open(payment, dispute, status, at)
        return
    if status == "open":
        return
    for share in shares:
        if share.status == "open":
            share.status, share.closed_at = status, at


def _open(payment: CheckoutPayment, dispute: dict[str, Any], status: str, at: datetime) -> None:
    orders = checkout_orders(payment.checkout_id)
    amount = from_cents(cents(dispute["amount"]))
    totals = [order.total for order in orders]
    amount = min(amount, sum(totals, ZERO))
    shares = split_within(amount, [order.subtotal for order in orders], totals)
    for order, share in zip(orders, shares, strict=True):
        db.session.add(
            OrderDispute(
                order_id=order.id,
                order_created_at=order.created_at,
                stripe_dispute_id=dispute["id"],
                amount=share,
                reason=(dispute.get("reason") or "")[:100] or None,
                status=status,
                opened_at=moment(dispute["created"]),
                closed_at=None if status == "open" else at,
            )
        )
    db.session.flush()
