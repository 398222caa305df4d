"""The portal on a live server wired to a local Stripe server both ways: the app's gateway calls
the local server, and the local server's signed webhooks reach the app's two endpoints."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import requests

from tests.http_browser import signed_in

FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def wire_webhooks(app, local_stripe, base: str, *, platform: bool = True, connect: bool = True):
    local_stripe.control(
        "/webhooks",
        {
            "platform": {
                "url": base + "/webhooks/stripe",
                "secret": app.config["STRIPE_WEBHOOK_SECRET"],
            }
            if platform
            else None,
            "connect": {
                "url": base + "/webhooks/stripe/connect",
                "secret": app.config["STRIPE_CONNECT_WEBHOOK_SECRET"],
            }
            if connect
            else None,
        },
    )


def delivered(local_stripe) -> list[dict[str, Any]]:
    """Every event with its deliveries, once all were delivered."""
    local_stripe.control("/events/wait", {"timeout": 20})
    return local_stripe.control("/events", method="GET")


def owner_browser(base: str, email: str) -> tuple[requests.Session, str]:
    """A signed-in session and a CSRF token from the payouts page's forms."""
    browser = signed_in(base, email)
    page = browser.get(base + "/vendor/payouts/")
    assert page.status_code == 200, page.text
    return browser, FORM_CSRF.search(page.text).group(1)


def signed_event(
    secret: str,
    type_: str,
    obj: dict[str, Any],
    *,
    account: str | None = None,
    livemode: bool = False,
    event_id: str = "evt_portal_test_1",
) -> tuple[bytes, dict[str, str]]:
    """An event body and headers as Stripe sends them, signed with ``secret``."""
    from portal.payouts.stripe_local import signature_header

    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-04-10",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    if account:
        event["account"] = account
    body = json.dumps(event).encode()
    return body, {
        "Content-Type": "application/json",
        "Stripe-Signature": signature_header(body, secret),
    }
