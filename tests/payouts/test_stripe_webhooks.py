"""Signed webhook events from the local Stripe server, verified by the gateway as the portal's two
endpoints will verify them (``stripe.Webhook.construct_event``, each endpoint its own secret)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.payouts.gateway import InvalidSignature
from portal.payouts.stripe_local import signature_header
from tests.payouts.conftest import gateway_for

PLATFORM_SECRET = "whsec_test_platform"
CONNECT_SECRET = "whsec_test_connect"


class Receiver:
    """A loopback HTTP endpoint that keeps what it is sent."""

    def __init__(self):
        self.received: list[tuple[str, bytes, str | None]] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @Request.application
    def _app(self, request: Request) -> Response:
        self.received.append(
            (request.path, request.get_data(), request.headers.get("Stripe-Signature"))
        )
        return Response("ok")

    def on(self, path: str) -> list[tuple[bytes, str | None]]:
        return [(body, signature) for where, body, signature in self.received if where == path]

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def wired(local_stripe, receiver):
    local_stripe.control(
        "/webhooks",
        {
            "platform": {"url": receiver.url + "/webhooks/stripe", "secret": PLATFORM_SECRET},
            "connect": {"url": receiver.url + "/webhooks/stripe/connect", "secret": CONNECT_SECRET},
        },
    )
    gateway = gateway_for(
        local_stripe, webhook_secret=PLATFORM_SECRET, connect_webhook_secret=CONNECT_SECRET
    )
    account = gateway.create_express_account(idempotency_key="vendor-account")
    local_stripe.onboard(account.id)
    local_stripe.set_balance(50_000)
    gateway.create_transfer(
        amount=Decimal("12.00"),
        destination=account.id,
        transfer_group="batch-9",
        payout_id="payout-9",
        idempotency_key="payout-9",
    )
    local_stripe.control("/events/wait", {"timeout": 10})
    return gateway, account.id


def test_platform_events_verify_with_the_platform_secret(wired, receiver):
    gateway, _ = wired
    events = [gateway.platform_event(body, sig) for body, sig in receiver.on("/webhooks/stripe")]

    assert [event.type for event in events] == ["balance.available", "transfer.created"]
    transfer = events[1].data.object
    assert transfer.object == "transfer" and transfer.metadata["payout_id"] == "payout-9"
    assert events[1].livemode is False and events[1].id.startswith("evt_")


def test_connect_events_name_the_connected_account(wired, receiver):
    gateway, account_id = wired
    events = [
        gateway.connect_event(body, sig) for body, sig in receiver.on("/webhooks/stripe/connect")
    ]

    assert {event.type for event in events} == {"account.updated", "capability.updated"}
    assert {event.account for event in events} == {account_id}
    updated = next(event for event in events if event.type == "account.updated")
    assert updated.data.object.payouts_enabled is True


def test_an_event_signed_for_the_other_endpoint_is_refused(wired, receiver):
    gateway, _ = wired
    body, signature = receiver.on("/webhooks/stripe/connect")[0]
    with pytest.raises(InvalidSignature):
        gateway.platform_event(body, signature)
    body, signature = receiver.on("/webhooks/stripe")[0]
    with pytest.raises(InvalidSignature):
        gateway.connect_event(body, signature)


def test_a_changed_body_or_a_bad_signature_is_refused(wired, receiver):
    gateway, _ = wired
    body, signature = receiver.on("/webhooks/stripe")[-1]
    tampered = body.replace(b'"amount": 1200', b'"amount": 9900')
    assert tampered != body
    for payload, header in (
        (tampered, signature),
        (body, None),
        (body, ""),
        (body, "t=1,v1=00"),
        (body, signature.replace("v1=", "v1=0")),
    ):
        with pytest.raises(InvalidSignature):
            gateway.platform_event(payload, header)


def test_an_old_signature_is_refused(wired, receiver):
    gateway, _ = wired
    body, _ = receiver.on("/webhooks/stripe")[-1]
    stale = signature_header(body, PLATFORM_SECRET, timestamp=int(time.time()) - 301)
    fresh = signature_header(body, PLATFORM_SECRET)
    with pytest.raises(InvalidSignature, match="tolerance"):
        gateway.platform_event(body, stale)
    assert gateway.platform_event(body, fresh).type == "transfer.created"


def test_events_are_resent_on_request(wired, receiver, local_stripe):
    gateway, _ = wired
    body, _ = receiver.on("/webhooks/stripe")[-1]
    event_id = gateway.platform_event(body, receiver.on("/webhooks/stripe")[-1][1]).id

    local_stripe.control(f"/events/{event_id}/resend")
    local_stripe.control("/events/wait", {"timeout": 10})

    again = receiver.on("/webhooks/stripe")[-1]
    assert gateway.platform_event(*again).id == event_id
    deliveries = next(
        item["deliveries"]
        for item in local_stripe.control("/events", method="GET")
        if item["event"]["id"] == event_id
    )
    assert [delivery["status"] for delivery in deliveries] == [200, 200]


def test_payout_events_on_the_connected_account(wired, receiver, local_stripe):
    gateway, account_id = wired
    local_stripe.control(f"/accounts/{account_id}/payouts", {"amount": 1200, "status": "failed"})
    local_stripe.control("/events/wait", {"timeout": 10})

    events = [gateway.connect_event(*sent) for sent in receiver.on("/webhooks/stripe/connect")]
    failed = events[-1]
    assert failed.type == "payout.failed" and failed.account == account_id
    assert failed.data.object.id.startswith("po_")
    assert failed.data.object.failure_code == "account_closed"
    assert events[-2].type == "payout.created"
