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


def connect(shop, server, *, onboard: bool = True):
    """A connected account for ``shop`` on the local Stripe server, as onboarding records it."""
    from portal.extensions import db
    from portal.payouts.gateway import gateway
    from portal.payouts.models import ConnectedAccount

    account = gateway().create_express_account(idempotency_key=f"acct-{shop.id}")
    if onboard:
        server.onboard(account.id)
        account = gateway().retrieve_account(account.id)
    row = ConnectedAccount(
        vendor_id=shop.id,
        stripe_account_id=account.id,
        account_type="express",
        capabilities=account.capabilities,
        charges_enabled=account.charges_enabled,
        payouts_enabled=account.payouts_enabled,
        requirements=account.requirements,
    )
    db.session.add(row)
    db.session.flush()
    return row
