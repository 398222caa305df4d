"""The local Stripe server on loopback, a gateway pointed at it, and the spec check.

Every API request the server receives during a test, every answer it gives and every event it
makes are checked against Stripe's published OpenAPI spec when the test ends
(``tests/payouts/stripe_spec.py``): a local server that drifted from Stripe fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from portal.config import TestConfig
from portal.payouts.gateway import StripeGateway
from portal.payouts.stripe_local import Running
from tests.mailbox import mailbox  # noqa: F401  (fixtures)
from tests.payouts import stripe_spec

TEST_KEY = "sk_test_portal_tests"


class LocalStripeServer:
    """A running local Stripe server and its control API."""

    def __init__(self, **options):
        self.exchanges = []
        self.running = Running(api_key=TEST_KEY, on_exchange=self.exchanges.append, **options)
        self.url = self.running.url
        self.stripe = self.running.stripe

    def control(self, path: str, body: dict[str, Any] | None = None, method: str = "POST"):
        response = requests.request(method, self.url + "/_control" + path, json=body, timeout=10)
        assert response.ok, response.text
        return response.json()

    def arm(self, fault: str, path: str = "/v1/transfers", times: int = 1, method: str = "POST"):
        return self.control(
            "/faults", {"method": method, "path": path, "fault": fault, "times": times}
        )

    def set_balance(self, cents: int) -> None:
        self.control("/balance", {"currency": "usd", "available": cents})

    def onboard(self, account_id: str) -> None:
        self.control(f"/accounts/{account_id}/complete_onboarding")

    def transfer_log(self) -> list[dict[str, Any]]:
        return self.control("/transfers", method="GET")["log"]

    def events(self) -> list[dict[str, Any]]:
        return [item["event"] for item in self.control("/events", method="GET")]

    def calls(self, method: str, path: str) -> list[int | None]:
        """The statuses the server answered ``method path`` with, in order (None: dropped)."""
        return [e.status for e in self.exchanges if (e.method, e.path) == (method, path)]

    def check_against_spec(self) -> None:
        spec = stripe_spec.load()
        for exchange in self.exchanges:
            spec.check_exchange(exchange)
        for event in self.stripe.store.state.events:
            spec.check_event(event)

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture
def local_stripe_factory():
    stripe_spec.load()  # no test runs without the judge
    servers = []

    def start(**options) -> LocalStripeServer:
        server = LocalStripeServer(**options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        server.check_against_spec()


@pytest.fixture
def local_stripe(local_stripe_factory) -> LocalStripeServer:
    return local_stripe_factory()


TEST_SETTINGS = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}


def gateway_for(server: LocalStripeServer, **overrides) -> StripeGateway:
    """A gateway made from the test settings, pointed at ``server``; its waits between retries
    are recorded in ``.waits`` instead of slept."""
    waits: list[float] = []
    overrides.setdefault("secret_key", TEST_KEY)
    gateway = StripeGateway.from_config(
        TEST_SETTINGS, api_base=server.url, sleep=waits.append, **overrides
    )
    gateway.waits = waits
    return gateway


@pytest.fixture
def gateway(local_stripe) -> StripeGateway:
    return gateway_for(local_stripe)


@pytest.fixture
def onboarded_account(gateway, local_stripe) -> str:
    account = gateway.create_express_account(idempotency_key="acct-vendor-1", email="v@example.com")
    local_stripe.onboard(account.id)
    local_stripe.set_balance(1_000_000)
    return account.id


@pytest.fixture
def app_stripe(app, local_stripe, monkeypatch) -> LocalStripeServer:
    """The app's own gateway (``portal.payouts.gateway.gateway()``) pointed at a local server
    for this test; waits between retries are not slept."""
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", local_stripe.url)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", TEST_KEY)
    monkeypatch.setitem(app.config, "STRIPE_RETRY_BASE_SECONDS", 0)
    monkeypatch.setitem(app.config, "STRIPE_RETRY_MAX_SECONDS", 0)
    monkeypatch.delitem(app.extensions, "stripe_gateway", raising=False)
    yield local_stripe
    app.extensions.pop("stripe_gateway", None)
