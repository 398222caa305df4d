"""The checkout is paid: the one place a succeeded PaymentIntent reaches the orders.

``on_checkout_paid`` is called by the ``payment_intent.succeeded`` webhook, in its transaction.
Each of the checkout's orders still waiting for payment takes order intake's own paid transition
(``orders.services.mark_paid``): commission record, platform fee, volumes, points and referral
conversion happen exactly as for a storefront's ``order.paid``. The checkout (cart, inventory)
wires its own steps to this function.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..orders import services, states
from ..orders.models import Order

log = logging.getLogger(__name__)


def on_checkout_paid(checkout_id: uuid.UUID, at: datetime) -> list[Order]:
    """Mark the checkout's pending orders paid at ``at``; returns those it marked. An order that
    can no longer be paid (canceled meanwhile) is left as it is and logged: the money for it is
    the checkout's to give back (docs/payments.md)."""
    orders = db.session.scalars(
        sa.select(Order)
        .where(Order.checkout_id == checkout_id)
        .order_by(Order.created_at, Order.id)
    ).all()
    marked = []
    for order in orders:
        refused = states.refusal(order, "pay")
        if refused:
            if order.paid_at is None:
                log.warning("checkout %s paid, order %s not: %s", checkout_id, order.id, refused)
            continue
        marked.append(services.mark_paid(order, at))
    return marked
