"""The gateway through the real ``stripe`` package, over HTTP, against the local Stripe server."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from portal.payouts.gateway import (
    BalanceInsufficient,
    IdempotencyKeyReused,
    StripeRefused,
    StripeUnavailable,
    TransferDeclined,
)
from tests.payouts.conftest import gateway_for


def _transfer(gateway, account_id, *, key="payout-1-key", amount="25.00", payout_id="payout-1"):
    return gateway.create_transfer(
        amount=Decimal(amount),
        destination=account_id,
        transfer_group="batch-1",
        payout_id=payout_id,
        idempotency_key=key,
    )


# --- accounts and links -----------------------------------------------------------------------


def test_an_express_style_account_is_created_once_per_idempotency_key(gateway, local_stripe):
    first = gateway.create_express_account(
        idempotency_key="vendor-7-account", email="shop@example.com", metadata={"vendor_id": "7"}
    )
    again = gateway.create_express_account(
        idempotency_key="vendor-7-account", email="shop@example.com", metadata={"vendor_id": "7"}
    )

    assert again.id == first.id and first.id.startswith("acct_")
    assert list(local_stripe.stripe.store.state.accounts) == [first.id]
    stored = local_stripe.stripe.store.state.accounts[first.id]
    assert stored["controller"] == {
        "fees": {"payer": "application"},
        "is_controller": True,
        "losses": {"payments": "application"},
        "requirement_collection": "stripe",
        "stripe_dashboard": {"type": "express"},
        "type": "application",
    }
    assert stored["metadata"] == {"vendor_id": "7"}
    assert first.capabilities == {"transfers": "inactive"}
    assert not first.payouts_enabled and not first.transfers_active
    assert "external_account" in first.requirements["currently_due"]


def test_onboarding_through_the_hosted_page_activates_the_account(gateway, local_stripe):
    account = gateway.create_express_account(idempotency_key="vendor-8-account")
    link = gateway.create_account_link(
        account.id,
        refresh_url="http://127.0.0.1:8000/vendor/payouts/refresh",
        return_url="http://127.0.0.1:8000/vendor/payouts/return",
    )
    assert link.url.startswith(local_stripe.url + "/")

    page = requests.get(link.url, timeout=10)
    assert page.status_code == 200 and "Agree and submit" in page.text
    form_action = page.text.split('action="', 1)[1].split('"', 1)[0]
    done = requests.post(local_stripe.url + form_action, allow_redirects=False, timeout=10)
    assert done.status_code == 303
    assert done.headers["Location"] == "http://127.0.0.1:8000/vendor/payouts/return"

    account = gateway.retrieve_account(account.id)
    assert account.details_submitted and account.payouts_enabled and account.transfers_active
    assert account.requirements["currently_due"] == []
    # A link works once: opened again, it sends the person to refresh_url for a fresh one.
    again = requests.get(link.url, allow_redirects=False, timeout=10)
    assert again.headers["Location"] == "http://127.0.0.1:8000/vendor/payouts/refresh"
    updated = [e for e in local_stripe.events() if e["type"] == "account.updated"]
    assert updated[-1]["account"] == account.id
    assert updated[-1]["data"]["previous_attributes"]["payouts_enabled"] is False


def test_a_login_link_opens_the_express_dashboard(gateway, onboarded_account):
    url = gateway.create_login_link(onboarded_account)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and onboarded_account in page.text


def test_a_transfer_to_an_account_without_the_transfers_capability_is_refused(
    gateway, local_stripe
):
    account = gateway.create_express_account(idempotency_key="not-onboarded")
    local_stripe.set_balance(100_000)
    with pytest.raises(StripeRefused) as refused:
        _transfer(gateway, account.id)
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    assert not refused.value.retryable


# --- transfers and idempotency ----------------------------------------------------------------


def test_a_transfer_moves_cents_from_the_platform_balance(gateway, local_stripe, onboarded_account):
    transfer = _transfer(gateway, onboarded_account, amount="25.10")

    assert transfer.id.startswith("tr_")
    assert transfer.amount == Decimal("25.10") and transfer.payout_id == "payout-1"
    assert transfer.destination == onboarded_account and transfer.transfer_group == "batch-1"
    assert gateway.retrieve_balance().available_in("usd") == Decimal("9974.90")
    [logged] = local_stripe.transfer_log()
    assert logged["amount"] == 2510 and logged["idempotency_key"] == "payout-1-key"


def test_the_same_idempotency_key_returns_the_first_answer(
    gateway, local_stripe, onboarded_account
):
    first = _transfer(gateway, onboarded_account)
    again = _transfer(gateway, onboarded_account)

    assert again == first
    assert len(local_stripe.transfer_log()) == 1
    assert gateway.retrieve_balance().available_in("usd") == Decimal("9975.00")


def test_the_same_idempotency_key_with_other_parameters_is_refused(
    gateway, local_stripe, onboarded_account
):
    _transfer(gateway, onboarded_account, amount="25.00")
    with pytest.raises(IdempotencyKeyReused) as refused:
        _transfer(gateway, onboarded_account, amount="26.00")

    assert refused.value.http_status == 400 and not refused.value.retryable
    assert local_stripe.calls("POST", "/v1/transfers") == [200, 400]
    assert len(local_stripe.transfer_log()) == 1


def test_a_replayed_answer_says_so(local_stripe, onboarded_account):
    def post():
        return requests.post(
            local_stripe.url + "/v1/transfers",
            data={"amount": "100", "currency": "usd", "destination": onboarded_account},
            headers={"Authorization": "Bearer sk_test_portal_tests", "Idempotency-Key": "raw-1"},
            timeout=10,
        )

    first, second = post(), post()
    assert first.json() == second.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Original-Request"] == first.headers["Request-Id"]


def test_429_twice_then_success_is_retried_with_backoff(gateway, local_stripe, onboarded_account):
    local_stripe.arm("rate_limit", times=2)

    transfer = _transfer(gateway, onboarded_account)

    assert local_stripe.calls("POST", "/v1/transfers") == [429, 429, 200]
    assert [t["id"] for t in local_stripe.transfer_log()] == [transfer.id]
    first, second = gateway.waits
    # Exponential, with jitter: the second wait's ceiling is twice the first's.
    assert 0.005 <= first <= 0.01 and 0.01 <= second <= 0.02


def test_retries_stop_after_the_configured_attempts(local_stripe, onboarded_account):
    gateway = gateway_for(local_stripe, max_attempts=3)
    local_stripe.arm("rate_limit", times=5)

    with pytest.raises(StripeUnavailable) as unavailable:
        _transfer(gateway, onboarded_account)

    assert unavailable.value.http_status == 429 and unavailable.value.retryable
    assert local_stripe.calls("POST", "/v1/transfers") == [429, 429, 429]
    assert local_stripe.transfer_log() == []


def test_a_500_is_retried(gateway, local_stripe, onboarded_account):
    local_stripe.arm("api_error")
    _transfer(gateway, onboarded_account)
    assert local_stripe.calls("POST", "/v1/transfers") == [500, 200]


def test_balance_insufficient_is_not_retried(gateway, local_stripe, onboarded_account):
    local_stripe.set_balance(1_000)  # $10.00

    with pytest.raises(BalanceInsufficient) as short:
        _transfer(gateway, onboarded_account, amount="25.00")

    assert short.value.code == "balance_insufficient" and not short.value.retryable
    assert local_stripe.calls("POST", "/v1/transfers") == [400]
    assert gateway.waits == []
    # Stripe keeps the refusal under the key: after a top-up, the same key is refused again,
    # and the transfer goes out under a new one.
    local_stripe.set_balance(10_000)
    with pytest.raises(BalanceInsufficient):
        _transfer(gateway, onboarded_account, amount="25.00")
    transfer = _transfer(gateway, onboarded_account, amount="25.00", key="payout-1-key-2")
    assert [t["id"] for t in local_stripe.transfer_log()] == [transfer.id]


def test_an_injected_balance_decline_and_a_card_error(gateway, local_stripe, onboarded_account):
    local_stripe.arm("balance_insufficient")
    with pytest.raises(BalanceInsufficient):
        _transfer(gateway, onboarded_account, key="k-1")
    local_stripe.arm("card_declined")
    with pytest.raises(TransferDeclined) as declined:
        _transfer(gateway, onboarded_account, key="k-2")
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    assert local_stripe.transfer_log() == []


def test_a_connection_dropped_after_the_transfer_is_made(local_stripe, onboarded_account):
    once = gateway_for(local_stripe, max_attempts=1)
    local_stripe.arm("drop_after")

    with pytest.raises(StripeUnavailable):
        _transfer(once, onboarded_account)

    [made] = local_stripe.transfer_log()
    assert local_stripe.calls("POST", "/v1/transfers") == [None]
    # The portal never saw the answer; the lookup by transfer group finds what was made.
    found = once.find_transfer(transfer_group="batch-1", payout_id="payout-1")
    assert found is not None and found.id == made["id"]
    assert once.find_transfer(transfer_group="batch-1", payout_id="payout-2") is None
    # A retry with the same key gets the answer that was lost, and makes nothing new.
    assert _transfer(once, onboarded_account).id == made["id"]
    assert len(local_stripe.transfer_log()) == 1


def test_a_dropped_connection_is_retried_inside_the_gateway(
    gateway, local_stripe, onboarded_account
):
    local_stripe.arm("drop_after")
    transfer = _transfer(gateway, onboarded_account)
    assert local_stripe.calls("POST", "/v1/transfers") == [None, 200]
    assert [t["id"] for t in local_stripe.transfer_log()] == [transfer.id]

    local_stripe.arm("drop_before")
    second = _transfer(gateway, onboarded_account, key="payout-2-key", payout_id="payout-2")
    assert local_stripe.calls("POST", "/v1/transfers")[-2:] == [None, 200]
    assert [t["id"] for t in local_stripe.transfer_log()] == [transfer.id, second.id]


def test_an_idempotency_key_is_forgotten_after_the_configured_time(local_stripe_factory):
    server = local_stripe_factory(idempotency_ttl=3600)
    gateway = gateway_for(server)
    account = gateway.create_express_account(idempotency_key="a")
    server.onboard(account.id)
    server.set_balance(100_000)
    first = _transfer(gateway, account.id)

    # The server's clock also runs in real time, so the steps leave a margin a slow run can't eat.
    server.control("/clock", {"advance_seconds": 3500})
    assert _transfer(gateway, account.id).id == first.id
    server.control("/clock", {"advance_seconds": 200})
    # The key is forgotten: resent blindly, the same request pays again. A resend must first
    # look the payout's transfer up, which finds the first one.
    assert gateway.find_transfer(transfer_group="batch-1", payout_id="payout-1").id == first.id
    second = _transfer(gateway, account.id)
    assert second.id != first.id
    assert [t["id"] for t in server.transfer_log()] == [first.id, second.id]


def test_listing_a_transfer_group_follows_every_page(gateway, local_stripe, onboarded_account):
    made = [
        _transfer(gateway, onboarded_account, key=f"k-{n}", payout_id=f"payout-{n}").id
        for n in range(5)
    ]
    gateway.create_transfer(
        amount=Decimal("1.00"),
        destination=onboarded_account,
        transfer_group="batch-2",
        payout_id="other",
        idempotency_key="other",
    )

    listed = gateway.list_transfers("batch-1", page_size=2)

    assert [t.id for t in listed] == made[::-1]
    assert local_stripe.calls("GET", "/v1/transfers") == [200, 200, 200]


def test_a_transfer_reversal_returns_money_to_the_platform(
    gateway, local_stripe, onboarded_account
):
    transfer = _transfer(gateway, onboarded_account, amount="30.00")
    reversal = gateway.create_transfer_reversal(
        transfer.id, idempotency_key="reverse-1", amount=Decimal("12.50")
    )

    assert reversal.id.startswith("trr_") and reversal.amount == Decimal("12.50")
    assert gateway.retrieve_balance().available_in("usd") == Decimal("9982.50")
    assert local_stripe.stripe.store.state.transfers[transfer.id]["amount_reversed"] == 1250
    with pytest.raises(StripeRefused):
        gateway.create_transfer_reversal(
            transfer.id, idempotency_key="reverse-2", amount=Decimal("20.00")
        )
    reversed_events = [e for e in local_stripe.events() if e["type"] == "transfer.reversed"]
    assert reversed_events[0]["data"]["object"]["amount_reversed"] == 1250


def test_amounts_must_be_whole_cents(gateway, onboarded_account):
    for amount in ("10.005", "0.00", "-1.00"):
        with pytest.raises(ValueError, match="cents"):
            _transfer(gateway, onboarded_account, amount=amount)


def test_a_wrong_secret_key_is_refused(local_stripe):
    gateway = gateway_for(local_stripe, secret_key="sk_test_someone_else")
    with pytest.raises(StripeRefused) as refused:
        gateway.retrieve_balance()
    assert refused.value.http_status == 401


def test_the_deprecated_service_style_is_an_error_in_tests(gateway):
    with pytest.raises(DeprecationWarning):
        gateway.client.accounts  # noqa: B018
