"""A checkout's PaymentIntent and the payment events that follow it, against the local Stripe
server: what reaches Stripe, paid orders, failures, replays and events out of order."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa

from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.payments.intents import PaymentError, start_checkout_payment
from portal.payments.models import CheckoutPayment
from portal.payouts.gateway import CardDeclined
from tests.deliveries.doordash import SECRET
from tests.payments.helpers import deliver, fresh, pay, server_events, two_shop_checkout


def payment(checkout_id) -> CheckoutPayment:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CheckoutPayment).where(CheckoutPayment.checkout_id == checkout_id)
    )


def test_the_intent_asks_for_the_orders_totals_with_a_transfer_group(db_session, app_stripe):
    checkout_id, orders = two_shop_checkout()  # 30 + 5 delivery, 2 x 10
    started = start_checkout_payment(checkout_id)
    row = started.payment
    assert row.amount == Decimal("55.00") == sum(order.total for order in orders)
    assert row.status == "requires_payment_method" and row.currency == "USD"
    assert row.transfer_group == f"checkout-{checkout_id}"
    assert started.client_secret.startswith(row.payment_intent_id + "_secret_")
    [intent] = app_stripe.control("/payment_intents", method="GET")
    assert intent["amount"] == 5500 and intent["transfer_group"] == row.transfer_group
    assert intent["automatic_payment_methods"]["enabled"] is True
    assert intent["metadata"]["checkout_id"] == str(checkout_id)
    assert set(intent["metadata"]["order_ids"].split(",")) == {str(o.id) for o in orders}
    # Again (a double click): the same intent, no second one at Stripe, one row.
    again = start_checkout_payment(checkout_id)
    assert again.payment.id == row.id and again.client_secret == started.client_secret
    assert len(app_stripe.control("/payment_intents", method="GET")) == 1


def test_nothing_of_an_obfuscated_product_reaches_stripe(db_session, app_stripe):
    checkout_id, _ = two_shop_checkout(first=("89.00", 1))
    pay(checkout_id)
    sent = " ".join(
        exchange.body + exchange.query
        for exchange in app_stripe.exchanges
        if exchange.path.startswith("/v1/")
    )
    decoded = " ".join(" ".join(values) for values in parse_qs(sent).values()) + " " + sent
    [intent] = app_stripe.control("/payment_intents", method="GET")
    stored = (
        " ".join(
            str(value) for value in (intent["description"], intent["statement_descriptor_suffix"])
        )
        + " "
        + " ".join(intent["metadata"].values())
    )
    for real in SECRET.values():
        for word in (real, real.split()[0]):
            assert word.lower() not in decoded.lower() and word.lower() not in stored.lower()
    assert "Personal care item" in intent["description"]  # its neutral name
    assert "Ceramic Mug" in intent["description"]  # a product that is not obfuscated
    assert intent["statement_descriptor_suffix"] == "Personal care item"


def test_succeeded_pays_every_order_once_and_a_replay_changes_nothing(
    app, client, db_session, app_stripe
):
    checkout_id, orders = two_shop_checkout()
    pay(checkout_id)
    [succeeded] = server_events(app_stripe, "payment_intent.succeeded")
    for _ in range(2):
        response = deliver(client, app, succeeded)
        assert response.status_code == 200
    assert response.json == {"status": "duplicate"}
    row = payment(checkout_id)
    assert row.status == "succeeded" and row.amount_received == Decimal("55.00")
    assert row.latest_charge_id == succeeded["data"]["object"]["latest_charge"]
    for order in orders:
        order = fresh(order)
        assert order.status == "paid" and order.paid_at == row.paid_at
        records = db.session.scalars(
            sa.select(CommissionRecord).where(CommissionRecord.order_id == order.id)
        ).all()
        assert [record.order_amount for record in records] == [order.subtotal]


def test_a_declined_card_pays_nothing_and_a_later_success_still_counts(
    app, client, db_session, app_stripe
):
    checkout_id, orders = two_shop_checkout()
    with pytest.raises(CardDeclined):
        pay(checkout_id, card="pm_card_chargeDeclined")
    [failed] = server_events(app_stripe, "payment_intent.payment_failed")
    assert deliver(client, app, failed).status_code == 200
    row = payment(checkout_id)
    assert row.status == "failed" and row.failure_code == "generic_decline"
    assert row.failure_message == "Your card was declined."
    assert {fresh(order).status for order in orders} == {"pending"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommissionRecord)) == 0

    pay(checkout_id)  # another card
    [succeeded] = server_events(app_stripe, "payment_intent.succeeded")
    deliver(client, app, succeeded)
    assert payment(checkout_id).status == "succeeded"
    assert {fresh(order).status for order in orders} == {"paid"}


def test_an_older_failure_arriving_after_the_success_moves_nothing_back(
    app, client, db_session, app_stripe
):
    checkout_id, orders = two_shop_checkout()
    with pytest.raises(CardDeclined):
        pay(checkout_id, card="pm_card_chargeDeclined")
    pay(checkout_id)
    [failed] = server_events(app_stripe, "payment_intent.payment_failed")
    [succeeded] = server_events(app_stripe, "payment_intent.succeeded")
    deliver(client, app, succeeded)
    assert deliver(client, app, failed).status_code == 200  # late, older
    row = payment(checkout_id)
    assert row.status == "succeeded" and row.failure_code is None
    assert {fresh(order).status for order in orders} == {"paid"}


def test_a_failure_older_than_the_last_event_applied_is_ignored(
    app, client, db_session, app_stripe
):
    checkout_id, _ = two_shop_checkout()
    with pytest.raises(CardDeclined):
        pay(checkout_id, card="pm_card_chargeDeclined")
    with pytest.raises(CardDeclined):
        pay(checkout_id, card="pm_card_chargeDeclinedInsufficientFunds")
    first, second = server_events(app_stripe, "payment_intent.payment_failed")
    second = {**second, "created": first["created"] + 5}
    deliver(client, app, second)
    deliver(client, app, first)  # older: the later failure's reason stays
    assert payment(checkout_id).failure_code == "insufficient_funds"


def test_canceled_leaves_the_orders_unpaid_and_a_late_success_cannot_follow(
    app, client, db_session, app_stripe
):
    from portal.payments.intents import cancel_checkout_payment

    checkout_id, orders = two_shop_checkout()
    start_checkout_payment(checkout_id)
    assert cancel_checkout_payment(checkout_id).status == "canceled"
    [canceled] = server_events(app_stripe, "payment_intent.canceled")
    deliver(client, app, canceled)
    row = payment(checkout_id)
    assert row.status == "canceled" and row.canceled_at is not None
    assert {fresh(order).status for order in orders} == {"pending"}
    assert cancel_checkout_payment(checkout_id) is None  # nothing left to cancel


def test_an_event_for_an_intent_that_is_no_checkouts_is_acknowledged(
    app, client, db_session, app_stripe
):
    from portal.payouts.gateway import gateway

    stranger = gateway().create_payment_intent(
        amount=Decimal("9.99"), currency="usd", transfer_group="other", idempotency_key="other"
    )
    [created] = server_events(app_stripe, "payment_intent.created")
    assert deliver(client, app, created).json == {"status": "ignored"}
    gateway().cancel_payment_intent(stranger.id, idempotency_key="other-cancel")
    [canceled] = server_events(app_stripe, "payment_intent.canceled")
    assert deliver(client, app, canceled).json == {"status": "handled"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckoutPayment)) == 0


def test_a_checkout_that_cannot_be_paid_by_card_is_refused_with_the_reason(db_session, app_stripe):
    import uuid

    with pytest.raises(PaymentError, match="no order"):
        start_checkout_payment(uuid.uuid4())
    checkout_id, orders = two_shop_checkout()
    orders[0].status = "canceled"
    db.session.flush()
    with pytest.raises(PaymentError, match="not waiting for payment"):
        start_checkout_payment(checkout_id)
    assert app_stripe.calls("POST", "/v1/payment_intents") == []
