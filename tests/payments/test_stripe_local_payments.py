"""The local Stripe server's PaymentIntents, Charges, Refunds and Disputes, through the gateway
over HTTP; every request, answer and event is checked against Stripe's spec when a test ends."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from portal.payouts.gateway import CardDeclined, IdempotencyKeyReused, StripeRefused

RETURN_URL = "http://127.0.0.1:9/checkout/return"


def intent(gateway, key="checkout-1", amount="42.50", **extra):
    return gateway.create_payment_intent(
        amount=Decimal(amount),
        currency="usd",
        transfer_group="checkout-1",
        idempotency_key=key,
        description="Order of 2 items from 1 shop",
        metadata={"checkout_id": "c-1"},
        statement_descriptor_suffix="Personal care",
        **extra,
    )


def paid(gateway, key="checkout-1", amount="42.50"):
    created = intent(gateway, key, amount)
    return gateway.confirm_payment_intent(
        created.id, payment_method="pm_card_visa", return_url=RETURN_URL, idempotency_key=key + "-c"
    )


def events_of(server, type_):
    return [e for e in server.events() if e["type"] == type_]


def test_a_payment_intent_is_created_as_stripe_makes_it(gateway, local_stripe):
    created = intent(gateway)
    assert created.id.startswith("pi_") and created.status == "requires_payment_method"
    assert created.amount == Decimal("42.50") and created.currency == "usd"
    assert created.client_secret.startswith(created.id + "_secret_")
    assert created.transfer_group == "checkout-1" and created.latest_charge is None
    assert gateway.retrieve_payment_intent(created.id) == created
    [event] = events_of(local_stripe, "payment_intent.created")
    assert event["data"]["object"]["id"] == created.id


def test_the_same_idempotency_key_gives_the_same_intent_and_other_parameters_are_refused(
    gateway, local_stripe
):
    first, again = intent(gateway), intent(gateway)
    assert first.id == again.id
    assert len(local_stripe.stripe.store.state.payment_intents) == 1
    with pytest.raises(IdempotencyKeyReused):
        intent(gateway, amount="43.00")


def test_a_visa_succeeds_with_a_charge_and_the_balance_grows(gateway, local_stripe):
    done = paid(gateway)
    assert done.status == "succeeded" and done.amount_received == Decimal("42.50")
    assert done.latest_charge.startswith("ch_")
    charge = local_stripe.stripe.store.state.charges[done.latest_charge]
    assert charge["paid"] and charge["captured"] and charge["payment_intent"] == done.id
    assert local_stripe.stripe.store.state.available["usd"] == 4250
    local_stripe.control("/events/wait", {"timeout": 5})
    types = [e["type"] for e in local_stripe.events()]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]


def test_a_declined_card_fails_the_attempt_and_another_card_may_follow(gateway, local_stripe):
    created = intent(gateway)
    with pytest.raises(CardDeclined) as declined:
        gateway.confirm_payment_intent(
            created.id,
            payment_method="pm_card_chargeDeclined",
            return_url=RETURN_URL,
            idempotency_key="confirm-1",
        )
    assert declined.value.code == "generic_decline"
    after = gateway.retrieve_payment_intent(created.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "card_declined"
    [failed] = events_of(local_stripe, "payment_intent.payment_failed")
    assert failed["data"]["object"]["last_payment_error"]["decline_code"] == "generic_decline"
    retried = gateway.confirm_payment_intent(
        created.id, payment_method="pm_card_visa", return_url=RETURN_URL, idempotency_key="c-2"
    )
    assert retried.status == "succeeded" and retried.last_payment_error is None


def test_confirming_without_a_return_url_is_refused_as_stripe_does(local_stripe, gateway):
    created = intent(gateway)
    response = requests.post(
        f"{local_stripe.url}/v1/payment_intents/{created.id}/confirm",
        data={"payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {gateway._secret_key}"},
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "return_url"


def test_cancel_and_then_nothing_more(gateway, local_stripe):
    created = intent(gateway)
    canceled = gateway.cancel_payment_intent(created.id, idempotency_key="cancel-1")
    assert canceled.status == "canceled"
    assert events_of(local_stripe, "payment_intent.canceled")
    with pytest.raises(StripeRefused) as refused:
        gateway.confirm_payment_intent(
            created.id, payment_method="pm_card_visa", return_url=RETURN_URL, idempotency_key="x"
        )
    assert refused.value.code == "payment_intent_unexpected_state"
    done = paid(gateway, key="checkout-2")
    with pytest.raises(StripeRefused):
        gateway.cancel_payment_intent(done.id, idempotency_key="cancel-2")


def test_partial_then_full_refunds_by_intent_and_by_charge(gateway, local_stripe):
    done = paid(gateway)
    first = gateway.create_refund(
        payment_intent=done.id, amount=Decimal("10.00"), idempotency_key="r-1"
    )
    assert first.id.startswith("re_") and first.charge == done.latest_charge
    assert first.status == "succeeded" and first.amount == Decimal("10.00")
    assert (
        gateway.create_refund(
            payment_intent=done.id, amount=Decimal("10.00"), idempotency_key="r-1"
        )
        == first
    )  # the same key: the same refund, once
    rest = gateway.create_refund(charge=done.latest_charge, idempotency_key="r-2")
    assert rest.amount == Decimal("32.50")
    charge = local_stripe.stripe.store.state.charges[done.latest_charge]
    assert charge["amount_refunded"] == 4250 and charge["refunded"] is True
    assert [r.id for r in gateway.list_refunds(charge=done.latest_charge)] == [rest.id, first.id]
    refunded = events_of(local_stripe, "charge.refunded")
    assert [e["data"]["object"]["amount_refunded"] for e in refunded] == [1000, 4250]
    with pytest.raises(StripeRefused) as refused:
        gateway.create_refund(charge=done.latest_charge, idempotency_key="r-3")
    assert refused.value.code == "charge_already_refunded"


def test_a_refund_above_what_is_left_is_refused(gateway):
    done = paid(gateway)
    with pytest.raises(StripeRefused) as refused:
        gateway.create_refund(payment_intent=done.id, amount=Decimal("50.00"), idempotency_key="r")
    assert refused.value.code == "amount_too_large"


def test_a_dispute_opens_and_closes_through_the_control_api(gateway, local_stripe):
    done = paid(gateway)
    dispute = local_stripe.control(f"/charges/{done.latest_charge}/dispute", {"amount": 2000})
    assert dispute["status"] == "needs_response" and dispute["amount"] == 2000
    with pytest.raises(StripeRefused) as refused:
        gateway.create_refund(payment_intent=done.id, idempotency_key="r-disputed")
    assert refused.value.code == "charge_disputed"
    closed = local_stripe.control(f"/disputes/{dispute['id']}/close", {"status": "lost"})
    assert closed["status"] == "lost"
    local_stripe.control("/events/wait", {"timeout": 5})
    [created] = events_of(local_stripe, "charge.dispute.created")
    [ended] = events_of(local_stripe, "charge.dispute.closed")
    assert created["data"]["object"]["charge"] == done.latest_charge
    assert ended["data"]["object"]["status"] == "lost"


def test_the_card_page_confirms_and_sends_the_customer_back(gateway, local_stripe):
    created = intent(gateway)
    page_url = f"{local_stripe.url}/pay/{created.id}"
    query = {"client_secret": created.client_secret, "return_url": RETURN_URL}
    page = requests.get(page_url, params=query, timeout=10)
    assert page.status_code == 200 and "42.50 USD" in page.text and "4242" in page.text
    assert (
        requests.get(page_url, params={**query, "client_secret": "pi_x_secret_y"}).status_code
        == 404
    )
    declined = requests.post(
        page_url, data={**query, "payment_method": "pm_card_chargeDeclined"}, timeout=10
    )
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    done = requests.post(
        page_url, data={**query, "payment_method": "pm_card_visa"}, allow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["Location"].startswith(RETURN_URL + "?payment_intent=" + created.id)
    assert "redirect_status=succeeded" in done.headers["Location"]
    assert gateway.retrieve_payment_intent(created.id).status == "succeeded"
