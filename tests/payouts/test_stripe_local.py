"""The local Stripe server's wire format, straight over HTTP: auth, form bodies, errors, control."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests

from portal.payouts.stripe_local.wire import StripeError, decode_form
from tests.payouts.conftest import TEST_KEY
from tests.payouts.stripe_spec import OFF_SPEC_HEADER

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
OFF_SPEC = {**AUTH, OFF_SPEC_HEADER: "1"}


def _post(server, path, data, headers=AUTH):
    return requests.post(server.url + path, data=data, headers=headers, timeout=10)


def test_bracket_notation_becomes_nested_values():
    assert decode_form(
        "controller[fees][payer]=application&capabilities[transfers][requested]=true"
        "&metadata[payout_id]=p-1&expand[0]=a&expand[1]=b&tags[]=x&tags[]=y&empty="
    ) == {
        "controller": {"fees": {"payer": "application"}},
        "capabilities": {"transfers": {"requested": "true"}},
        "metadata": {"payout_id": "p-1"},
        "expand": ["a", "b"],
        "tags": ["x", "y"],
        "empty": "",
    }


@pytest.mark.parametrize("body", ["a=1&a[b]=2", "a[b]=2&a=1", "a]b=1", "[a]=1"])
def test_a_malformed_form_key_is_refused(body):
    with pytest.raises(StripeError) as refused:
        decode_form(body)
    assert refused.value.status == 400 and refused.value.type == "invalid_request_error"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "You did not provide an API key"),
        ({"Authorization": "Bearer sk_test_other"}, "Invalid API Key provided"),
        ({"Authorization": "Bearer sk_live_real"}, "Invalid API Key provided"),
    ],
)
def test_a_request_without_the_right_key_is_a_401(local_stripe, headers, message):
    response = requests.get(local_stripe.url + "/v1/balance", headers=headers, timeout=10)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and message in error["message"]


def test_the_key_works_as_basic_auth_too(local_stripe):
    response = requests.get(local_stripe.url + "/v1/balance", auth=(TEST_KEY, ""), timeout=10)
    assert response.status_code == 200 and response.json()["object"] == "balance"


def test_an_unknown_parameter_is_refused_by_name(local_stripe):
    response = _post(
        local_stripe,
        "/v1/transfers",
        {"amount": "100", "currency": "usd", "destination": "acct_x", "colour": "red"},
        OFF_SPEC,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "colour" and "unknown parameter: colour" in error["message"]


def test_an_unknown_nested_parameter_is_refused_by_name(local_stripe):
    response = _post(
        local_stripe,
        "/v1/accounts",
        {"controller[fees][payer]": "application", "controller[x]": "1"},
        OFF_SPEC,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "controller[x]"


def test_a_missing_required_parameter_is_named(local_stripe):
    response = _post(local_stripe, "/v1/transfers", {"currency": "usd", "destination": "acct_x"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Missing required param: amount."


def test_type_and_controller_together_are_refused(local_stripe):
    response = _post(
        local_stripe, "/v1/accounts", {"type": "express", "controller[fees][payer]": "application"}
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "type"


def test_an_unknown_account_is_a_404_resource_missing(local_stripe):
    response = requests.get(local_stripe.url + "/v1/accounts/acct_nope", headers=AUTH, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_an_unrecognized_url_answers_in_stripes_error_body(local_stripe):
    response = requests.get(local_stripe.url + "/v1/charges", headers=OFF_SPEC, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/")


def test_an_account_update_link_is_refused_when_stripe_collects_requirements(local_stripe):
    account = _post(local_stripe, "/v1/accounts", {"type": "express"}).json()
    response = _post(
        local_stripe,
        "/v1/account_links",
        {
            "account": account["id"],
            "type": "account_update",
            "refresh_url": "http://127.0.0.1/r",
            "return_url": "http://127.0.0.1/d",
        },
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "type"


def test_a_429_says_rate_limit_in_the_shape_stripes_spec_knows(local_stripe):
    local_stripe.arm("rate_limit", path="/v1/balance", method="GET")
    response = requests.get(local_stripe.url + "/v1/balance", headers=AUTH, timeout=10)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limit"
    assert response.headers["Stripe-Should-Retry"] == "true"
    assert requests.get(local_stripe.url + "/v1/balance", headers=AUTH, timeout=10).ok


def test_an_unused_account_link_expires(local_stripe):
    account = _post(local_stripe, "/v1/accounts", {"type": "express"}).json()
    link = _post(
        local_stripe,
        "/v1/account_links",
        {
            "account": account["id"],
            "type": "account_onboarding",
            "refresh_url": "http://127.0.0.1/refresh",
            "return_url": "http://127.0.0.1/return",
        },
    ).json()
    assert link["expires_at"] - link["created"] == 300
    local_stripe.control("/clock", {"advance_seconds": 301})
    response = requests.get(link["url"], allow_redirects=False, timeout=10)
    assert response.headers["Location"] == "http://127.0.0.1/refresh"


def test_the_control_api_refuses_what_it_does_not_know(local_stripe):
    url = local_stripe.url + "/_control"
    for path, body in (
        ("/faults", {"fault": "meteor", "path": "/v1/transfers"}),
        ("/faults", {"fault": "rate_limit", "path": "transfers"}),
        ("/faults", {"fault": "rate_limit", "path": "/v1/transfers", "times": 0}),
        ("/balance", {"available": -1}),
        ("/clock", {"advance_seconds": "soon"}),
        ("/webhooks", {"platform": {"url": "http://127.0.0.1/x"}}),
    ):
        assert requests.post(url + path, json=body, timeout=10).status_code == 400, path
    account = _post(local_stripe, "/v1/accounts", {"type": "express"}).json()
    response = requests.post(
        f"{url}/accounts/{account['id']}", json={"requirements": {"bogus": []}}, timeout=10
    )
    assert response.status_code == 400


def test_stripe_only_facts_are_set_through_the_control_api(local_stripe):
    account = _post(local_stripe, "/v1/accounts", {"type": "express"}).json()
    local_stripe.control(
        f"/accounts/{account['id']}",
        {
            "requirements": {
                "currently_due": ["individual.verification.document"],
                "disabled_reason": "requirements.past_due",
                "current_deadline": 1_900_000_000,
            }
        },
    )
    fetched = requests.get(
        local_stripe.url + f"/v1/accounts/{account['id']}", headers=AUTH, timeout=10
    ).json()
    assert fetched["requirements"]["currently_due"] == ["individual.verification.document"]
    assert fetched["requirements"]["current_deadline"] == 1_900_000_000
    [event] = local_stripe.events()
    assert event["type"] == "account.updated" and event["account"] == account["id"]


def test_the_server_runs_as_a_module():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "portal.payouts.stripe_local", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--balance", "4200", "--api-key", TEST_KEY],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/balance"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.get(url, headers=AUTH, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert response.json()["available"][0]["amount"] == 4200
    finally:
        server.terminate()
        server.wait(timeout=10)
