"""Webhook delivery as Stripe does it: a JSON POST signed with ``Stripe-Signature: t=…,v1=…``.

Deliveries go out from one background thread, in the order the events happened, so a request
that causes an event is answered first (as at Stripe) and a handler that calls back into the
server does not wait for itself. ``wait_idle`` lets a test or the demo wait until all are sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from ...loopback import OrderedSender

# Platform events go to the platform's endpoint; events on a connected account (``account`` set)
# go to the Connect endpoint, each signed with its own secret.
PLATFORM = "platform"
CONNECT = "connect"
TIMEOUT_SECONDS = 10


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" under the endpoint's secret>``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Endpoint:
    url: str
    secret: str


@dataclass
class Delivery:
    endpoint: str
    url: str
    at: float
    status: int | None = None
    error: str | None = None


@dataclass
class Outbox:
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    deliveries: dict[str, list[Delivery]] = field(default_factory=dict)

    def __post_init__(self):
        self._sender = OrderedSender(self._deliver_item, "stripe-local-webhooks", TIMEOUT_SECONDS)

    def endpoint_for(self, event: dict[str, Any]) -> str:
        return CONNECT if event.get("account") else PLATFORM

    def configured(self, event: dict[str, Any]) -> bool:
        return self.endpoint_for(event) in self.endpoints

    def send(self, event: dict[str, Any]) -> None:
        name = self.endpoint_for(event)
        if name not in self.endpoints:
            return
        self._sender.put((name, event))

    def wait_idle(self, timeout: float) -> bool:
        return self._sender.wait_idle(timeout)

    def close(self) -> None:
        self._sender.close()

    def _deliver_item(self, item: tuple[str, dict[str, Any]]) -> None:
        self._deliver(*item)

    def _deliver(self, name: str, event: dict[str, Any]) -> None:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            return
        payload = json.dumps(event, indent=2).encode()
        request = urllib.request.Request(
            endpoint.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": signature_header(payload, endpoint.secret),
            },
        )
        delivery = Delivery(endpoint=name, url=endpoint.url, at=time.time())
        self.deliveries.setdefault(event["id"], []).append(delivery)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                delivery.status = response.status
        except urllib.error.HTTPError as error:
            delivery.status = error.code
        except OSError as error:
            delivery.error = str(error)
