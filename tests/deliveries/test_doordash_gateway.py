"""The DoorDash gateway against the local DoorDash server: the JWT DoorDash asks for (checked by
the server), amounts in cents, phones in E.164, quote, accept within validity, create, read,
cancel, and DoorDash's refusals in the portal's errors."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from decimal import Decimal

import jwt
import pytest
import requests

from portal.deliveries.providers import (
    CannotCancel,
    DeliveryNotFound,
    DeliveryRequest,
    DuplicateDelivery,
    Item,
    ProviderRefused,
    ProviderUnavailable,
    QuoteExpired,
    Stop,
)
from portal.deliveries.providers.doordash import InvalidPhone, e164, signing_key
from tests.deliveries.doordash import TEST_SETTINGS, gateway_for


def _request(external_id="delivery-1", **fields) -> DeliveryRequest:
    values = {
        "external_id": external_id,
        "pickup": Stop(address="1005 W Burnside St, Portland, OR", phone="+15035550101"),
        "dropoff": Stop(
            address="2 Home Ave, Portland, OR",
            phone="+15035550123",
            contact_given_name="Robin",
            location=(45.5231, -122.6765),
        ),
        "order_value": Decimal("24.50"),
        "items": (Item(name="Mug", quantity=2, price=Decimal("12.25"), external_id="line-1"),),
        "tip": Decimal("1.50"),
    }
    values.update(fields)
    return DeliveryRequest(**values)


def test_each_call_carries_the_jwt_doordash_asks_for(local_doordash):
    gateway = gateway_for(local_doordash)
    token = gateway.token(now=1_800_000_000)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT", "dd-ver": "DD-JWT-V1"}
    secret = TEST_SETTINGS["DOORDASH_SIGNING_SECRET"]
    claims = jwt.decode(
        token,
        base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)),
        algorithms=["HS256"],
        audience="doordash",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "aud": "doordash",
        "iss": TEST_SETTINGS["DOORDASH_DEVELOPER_ID"],
        "kid": TEST_SETTINGS["DOORDASH_KEY_ID"],
        "iat": 1_800_000_000,
        "exp": 1_800_000_000 + TEST_SETTINGS["DOORDASH_JWT_SECONDS"],
    }
    gateway.quote(_request())  # the server verified it
    assert local_doordash.calls("POST", "/drive/v2/quotes") == [200]


def _raw_call(server, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(server.url + "/drive/v2/deliveries/x", headers=headers, timeout=5)


def _token(claims=None, headers=None, key=None):
    now = int(time.time())
    body = {
        "aud": "doordash",
        "iss": TEST_SETTINGS["DOORDASH_DEVELOPER_ID"],
        "kid": TEST_SETTINGS["DOORDASH_KEY_ID"],
        "iat": now,
        "exp": now + 300,
    }
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(
        body,
        key or signing_key(TEST_SETTINGS["DOORDASH_SIGNING_SECRET"]),
        algorithm="HS256",
        headers={"dd-ver": "DD-JWT-V1", **(headers or {})},
    )


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (None, "Missing Bearer token"),
        ("not-a-jwt", "Invalid JWT"),
        (
            lambda: _token(key=b"another-signing-secret-of-forty-bytes!!"),
            "Signature verification failed",
        ),
        (lambda: _token({"aud": "stripe"}), "audience"),
        (lambda: _token({"iss": "someone-else"}), "issuer"),
        (lambda: _token({"kid": "other-key"}), "kid"),
        (lambda: _token({"kid": None}), "kid"),
        (lambda: _token({"exp": int(time.time()) - 5}), "expired"),
        (lambda: _token({"exp": int(time.time()) + 3600}), "30 minutes"),
        (lambda: _token(headers={"dd-ver": "DD-JWT-V0"}), "dd-ver"),
    ],
)
def test_the_server_refuses_a_jwt_doordash_would_refuse(local_doordash, token, says):
    response = _raw_call(local_doordash, token() if callable(token) else token)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_error"
    assert says.lower() in response.json()["message"].lower()


def test_a_wrong_signing_secret_is_refused_as_doordash_refuses_it(local_doordash):
    gateway = gateway_for(
        local_doordash, signing_secret="YW5vdGhlci1zaWduaW5nLXNlY3JldC1vZi1mb3J0eS1ieXRlcyEh"
    )
    with pytest.raises(ProviderRefused) as refused:
        gateway.quote(_request())
    assert refused.value.http_status == 401


def test_amounts_go_in_cents_and_phones_in_e164(local_doordash):
    gateway = gateway_for(local_doordash)
    quote = gateway.quote(_request())
    [sent] = [json.loads(r["body"]) for r in local_doordash.received()]
    assert sent["order_value"] == 2450 and sent["tip"] == 150
    assert sent["items"] == [{"name": "Mug", "quantity": 2, "external_id": "line-1", "price": 1225}]
    assert sent["pickup_phone_number"] == "+15035550101"
    assert sent["dropoff_phone_number"] == "+15035550123"
    assert sent["dropoff_location"] == {"lat": 45.5231, "lng": -122.6765}
    cents = local_doordash.doordash.state.quotes["delivery-1"]["fee"]
    assert isinstance(cents, int) and quote.fee == Decimal(cents) / 100
    assert quote.fee.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("written", "e164_form"),
    [
        ("(503) 555-0123", "+15035550123"),
        ("503.555.0123", "+15035550123"),
        ("1-503-555-0123", "+15035550123"),
        ("+1 503 555 0123", "+15035550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_written_in_e164(written, e164_form):
    assert e164(written) == e164_form


@pytest.mark.parametrize("written", ["", None, "555-0100", "+1 555 0100", "+0 123 456 789", "12"])
def test_a_number_e164_cannot_write_is_refused(written):
    with pytest.raises(InvalidPhone):
        e164(written)


def test_a_phone_not_in_e164_is_refused_by_the_server(local_doordash):
    gateway = gateway_for(local_doordash)
    with pytest.raises(ProviderRefused) as refused:
        gateway.quote(_request(dropoff=Stop(address="2 Home Ave", phone="503-555-0123")))
    assert refused.value.http_status == 400
    assert "dropoff_phone_number: must be in E.164" in refused.value.message


def test_a_quote_accepted_within_its_validity_books_the_delivery(local_doordash):
    gateway = gateway_for(local_doordash)
    quote = gateway.quote(_request())
    assert (quote.expires_at - quote.quoted_at).total_seconds() == 300
    booked = gateway.accept_quote("delivery-1", tip=Decimal("2.00"))
    assert booked.provider_status == "created" and booked.status == "created"
    assert booked.fee == quote.fee and booked.tip == Decimal("2.00")
    assert booked.tracking_url.endswith("/tracking/delivery-1")
    assert gateway.get("delivery-1").external_id == "delivery-1"
    [kept] = local_doordash.deliveries()
    assert kept["items"][0]["name"] == "Mug" and kept["tip"] == 200


def test_a_quote_past_its_validity_is_refused_and_the_delivery_can_be_created(local_doordash):
    gateway = gateway_for(local_doordash)
    gateway.quote(_request())
    local_doordash.control("/clock", {"advance_seconds": 301})
    with pytest.raises(QuoteExpired):
        gateway.accept_quote("delivery-1")
    booked = gateway.create(_request())
    assert booked.provider_status == "created"


def test_a_second_booking_of_one_external_id_is_a_duplicate(local_doordash):
    gateway = gateway_for(local_doordash)
    gateway.create(_request())
    with pytest.raises(DuplicateDelivery):
        gateway.create(_request())
    with pytest.raises(DuplicateDelivery):
        gateway.quote(_request())
    assert len(local_doordash.deliveries()) == 1


def test_an_unknown_delivery_is_not_found(local_doordash):
    with pytest.raises(DeliveryNotFound):
        gateway_for(local_doordash).get("nobody")


def test_cancel_before_pickup_and_not_after(local_doordash):
    gateway = gateway_for(local_doordash)
    gateway.create(_request("early"))
    assert gateway.cancel("early").status == "cancelled"
    assert gateway.cancel("early").status == "cancelled"  # again: still cancelled
    gateway.create(_request("late"))
    local_doordash.advance("late", to="picked_up")
    with pytest.raises(CannotCancel):
        gateway.cancel("late")


def test_unavailable_doordash_is_retried_then_reported(local_doordash):
    gateway = gateway_for(local_doordash)
    local_doordash.control(
        "/faults", {"method": "POST", "path": "/drive/v2/quotes", "fault": "api_error"}
    )
    assert gateway.quote(_request()).fee > 0
    assert local_doordash.calls("POST", "/drive/v2/quotes") == [500, 200]
    assert len(gateway.waits) == 1
    local_doordash.control(
        "/faults",
        {"method": "POST", "path": "/drive/v2/quotes", "fault": "rate_limit", "times": 5},
    )
    with pytest.raises(ProviderUnavailable):
        gateway.quote(_request())


def test_an_unknown_field_is_refused_by_name(local_doordash):
    response = requests.post(
        local_doordash.url + "/drive/v2/deliveries",
        json={
            "external_delivery_id": "x",
            "pickup_address": "a",
            "dropoff_address": "b",
            "dropoff_phone_number": "+15035550123",
            "surprise": 1,
        },
        headers={"Authorization": f"Bearer {gateway_for(local_doordash).token()}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert {"field": "surprise", "error": "unknown field"} in response.json()["field_errors"]


def test_the_server_runs_as_a_module():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal.deliveries.providers.doordash_local",
            "--port",
            "0",
            "--help",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "--webhook-authorization" in out


@pytest.mark.parametrize(
    ("proof", "sent"), [("photo", "photo_required"), ("pin_code", "pin_code"), ("none", "none")]
)
def test_the_proof_of_delivery_asked_for(local_doordash, proof, sent):
    gateway = gateway_for(local_doordash)
    gateway.create(_request(proof=proof, requires_signature=True))
    [body] = [json.loads(r["body"]) for r in local_doordash.received()]
    assert body["dropoff_options"] == {"proof_of_delivery": sent}
    assert body["dropoff_requires_signature"] is True
    assert body["contactless_dropoff"] is (proof == "photo")
