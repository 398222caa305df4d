"""Commission records ready to pay: orders placed through intake, completed and settled."""

from __future__ import annotations

from datetime import timedelta

from portal.commissions.services import settle_due_commissions
from portal.orders.intake import apply_order_event
from tests.orders.helpers import follow_up, now, paid_order, refunded


def settled_order(shop, price: str = "50.00", *, refund: str | None = None, days_ago: int = 30):
    """A paid order of ``shop``, optionally refunded, completed and settled: its records (and
    the refund's reversal) become payable."""
    at = now() - timedelta(days=days_ago + 1)
    order = paid_order(shop, at=at, items=[(price, 1)])
    if refund:
        apply_order_event(refunded(order.external_id, refund, at=at))
    apply_order_event(
        follow_up(order.external_id, "order.completed", at=now() - timedelta(days=days_ago))
    )
    settle_due_commissions(now())
    return order
