"""The spec check itself catches what it is there for: an unknown parameter, a missing field."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from tests.payouts import stripe_spec
from tests.payouts.stripe_spec import SpecViolation


@pytest.fixture
def spec():
    return stripe_spec.load()


@pytest.fixture
def transfer_exchange(gateway, local_stripe, onboarded_account):
    gateway.create_transfer(
        amount=Decimal("5.00"),
        destination=onboarded_account,
        transfer_group="g",
        payout_id="p",
        idempotency_key="k",
    )
    return next(e for e in local_stripe.exchanges if e.path == "/v1/transfers")


def test_the_spec_is_stripes_2024_04_10(spec):
    assert spec.version == "2024-04-10"


def test_a_real_exchange_passes(spec, transfer_exchange):
    spec.check_exchange(transfer_exchange)


def test_an_unknown_parameter_fails(spec, transfer_exchange):
    with pytest.raises(SpecViolation, match="'colour' was unexpected"):
        spec.check_request("POST", "/v1/transfers", transfer_exchange.body + "&colour=red")


def test_an_unknown_nested_parameter_fails(spec):
    body = "controller[fees][payer]=application&controller[fees][who]=me"
    with pytest.raises(SpecViolation, match="'who' was unexpected"):
        spec.check_request("POST", "/v1/accounts", body)


def test_a_parameter_of_the_wrong_type_fails(spec):
    with pytest.raises(SpecViolation, match="amount"):
        spec.check_request("POST", "/v1/transfers", "amount=ten&currency=usd&destination=acct_1")
    with pytest.raises(SpecViolation):
        spec.check_request("POST", "/v1/accounts", "capabilities[transfers][requested]=yes")


def test_an_unknown_query_parameter_fails(spec):
    spec.check_request("GET", "/v1/transfers", "transfer_group=g&limit=100")
    with pytest.raises(SpecViolation, match="'group' was unexpected"):
        spec.check_request("GET", "/v1/transfers", "group=g")


def test_a_missing_required_field_fails(spec, transfer_exchange):
    answer = copy.deepcopy(transfer_exchange.response)
    del answer["amount"]
    with pytest.raises(SpecViolation, match="'amount' is a required property"):
        spec.check_response("POST", "/v1/transfers", 200, answer)


def test_a_missing_listed_field_fails(spec, transfer_exchange):
    answer = copy.deepcopy(transfer_exchange.response)
    del answer["transfer_group"]
    with pytest.raises(SpecViolation, match="fields missing: transfer_group"):
        spec.check_response("POST", "/v1/transfers", 200, answer)


def test_a_field_stripe_does_not_have_fails(spec, transfer_exchange):
    answer = copy.deepcopy(transfer_exchange.response)
    answer["reversals"]["total"] = 0
    with pytest.raises(SpecViolation, match="'total' was unexpected"):
        spec.check_response("POST", "/v1/transfers", 200, answer)


def test_a_wrong_value_fails(spec, transfer_exchange):
    answer = copy.deepcopy(transfer_exchange.response)
    answer["object"] = "payment"
    with pytest.raises(SpecViolation, match="object"):
        spec.check_response("POST", "/v1/transfers", 200, answer)


def test_an_error_of_a_type_stripe_does_not_send_fails(spec):
    spec.check_response("POST", "/v1/transfers", 400, {"error": {"type": "invalid_request_error"}})
    with pytest.raises(SpecViolation, match="rate_limit_error"):
        spec.check_response("POST", "/v1/transfers", 429, {"error": {"type": "rate_limit_error"}})


def test_an_event_is_checked_with_its_object(spec, local_stripe, transfer_exchange):
    event = copy.deepcopy(
        next(e for e in local_stripe.stripe.store.state.events if e["type"] == "transfer.created")
    )
    spec.check_event(event)
    del event["data"]["object"]["livemode"]
    with pytest.raises(SpecViolation, match="livemode"):
        spec.check_event(event)
