"""The whole path over real HTTP: the portal on a live server asks the local Stripe server for
the checkout's intent, the customer pays on the stand-in card page, and the local server's own
signed webhooks reach the portal's platform endpoint: the orders are paid, a resent event
changes nothing, a refund made in Stripe lands on the orders."""

from __future__ import annotations

from decimal import Decimal

import requests
import sqlalchemy as sa

from portal.extensions import db
from portal.orders.models import Order, OrderRefund
from portal.payments.intents import local_card_page, start_checkout_payment
from portal.payments.models import CheckoutPayment
from portal.payouts.connect_models import StripeEvent
from portal.payouts.gateway import gateway
from tests.payments.helpers import two_shop_checkout
from tests.payouts.connect_helpers import delivered, wire_webhooks


def statuses(checkout_id) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Order.status).where(Order.checkout_id == checkout_id).order_by(Order.total)
        )
    )


def test_pay_on_the_card_page_and_the_webhooks_do_the_rest(app, app_stripe, live_server, committed):
    wire_webhooks(app, app_stripe, live_server, connect=False)
    checkout_id, _ = two_shop_checkout()
    started = start_checkout_payment(checkout_id)
    db.session.commit()
    return_url = live_server + "/"
    page = local_card_page(started.payment.payment_intent_id, started.client_secret, return_url)
    assert page.startswith(app_stripe.url + "/pay/")

    declined = requests.post(page, data={"payment_method": "pm_card_chargeDeclined"}, timeout=10)
    assert declined.status_code == 402 and "declined" in declined.text
    paid = requests.post(
        page, data={"payment_method": "pm_card_visa"}, allow_redirects=False, timeout=10
    )
    assert paid.status_code == 303 and paid.headers["Location"].startswith(return_url)

    events = delivered(app_stripe)
    answers = {item["event"]["type"]: item["deliveries"][-1]["status"] for item in events}
    assert answers["payment_intent.payment_failed"] == answers["payment_intent.succeeded"] == 200
    assert statuses(checkout_id) == ["paid", "paid"]
    row = db.session.scalar(sa.select(CheckoutPayment))
    assert row.status == "succeeded" and row.failure_code is None  # the later success stands

    # Stripe retries (a resend): the event id is known, nothing happens twice.
    succeeded = next(i["event"] for i in events if i["event"]["type"] == "payment_intent.succeeded")
    app_stripe.control(f"/events/{succeeded['id']}/resend")
    delivered(app_stripe)
    assert statuses(checkout_id) == ["paid", "paid"]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StripeEvent)
            .where(StripeEvent.id == succeeded["id"])
        )
        == 1
    )

    # A refund made in Stripe's dashboard, of the whole charge.
    gateway().create_refund(charge=row.latest_charge_id, idempotency_key="dashboard-refund")
    delivered(app_stripe)
    assert statuses(checkout_id) == ["refunded", "refunded"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.sum(OrderRefund.amount))) == Decimal("55.00")
