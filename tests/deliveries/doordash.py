"""The local DoorDash server on loopback, a gateway pointed at it, and deliveries to send it.

Import the fixtures into a test module: ``from tests.deliveries.doordash import local_doordash``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from portal.catalog.services import create_product, get_or_create_brand, get_or_create_category
from portal.config import TestConfig
from portal.customers.services import customer_for_user
from portal.deliveries.providers.doordash import DoorDashGateway
from portal.deliveries.providers.doordash_local import Running
from portal.extensions import db
from portal.obfuscation import services as obfuscation
from portal.orders import services as orders
from tests.deliveries.helpers import delivery_row
from tests.factories import make_customer
from tests.orders.helpers import established_shop

TEST_SETTINGS = {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.isupper()}
AUTHORIZATION = TestConfig.DOORDASH_WEBHOOK_AUTHORIZATION


class LocalDoorDashServer:
    """A running local DoorDash server and its control API."""

    def __init__(self, **options):
        options.setdefault("developer_id", TestConfig.DOORDASH_DEVELOPER_ID)
        options.setdefault("key_id", TestConfig.DOORDASH_KEY_ID)
        options.setdefault("signing_secret", TestConfig.DOORDASH_SIGNING_SECRET)
        options.setdefault("webhook_authorization", AUTHORIZATION)
        self.running = Running(**options)
        self.url = self.running.url
        self.doordash = self.running.doordash

    def control(self, path: str, body: dict[str, Any] | None = None, method: str = "POST"):
        response = requests.request(method, self.url + "/_control" + path, json=body, timeout=10)
        assert response.ok, response.text
        return response.json()

    def advance(self, external_id, *, event=None, to=None, location=None) -> dict[str, Any]:
        body: dict[str, Any] = {"event": event} if event else {"to": to}
        if location:
            body["location"] = {"lat": location[0], "lng": location[1]}
        return self.control(f"/deliveries/{external_id}/advance", body)

    def events(self) -> list[dict[str, Any]]:
        return self.control("/events", method="GET")

    def received(self) -> list[dict[str, Any]]:
        """Every API request the server received: method, path, body, status."""
        return self.control("/requests", method="GET")

    def deliveries(self) -> list[dict[str, Any]]:
        return self.control("/deliveries", method="GET")

    def calls(self, method: str, path: str) -> list[int | None]:
        return [r["status"] for r in self.received() if (r["method"], r["path"]) == (method, path)]

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture
def local_doordash():
    server = LocalDoorDashServer()
    yield server
    server.stop()


def gateway_for(server: LocalDoorDashServer, **overrides) -> DoorDashGateway:
    waits: list[float] = []
    gateway = DoorDashGateway.from_config(
        TEST_SETTINGS, api_base=server.url, sleep=waits.append, **overrides
    )
    gateway.waits = waits
    return gateway


@pytest.fixture
def app_doordash(app, local_doordash, monkeypatch) -> LocalDoorDashServer:
    """The app's provider (``providers.provider("doordash")``) pointed at a local server."""
    monkeypatch.setitem(app.config, "DOORDASH_API_BASE", local_doordash.url)
    monkeypatch.delitem(app.extensions, "doordash_gateway", raising=False)
    yield local_doordash
    app.extensions.pop("doordash_gateway", None)


# --- deliveries -------------------------------------------------------------------------------

SECRET = {
    "title": "Aurora Pleasure Wand Deluxe",
    "description": "Whisper-quiet intimate massager, ten vibration modes.",
    "brand": "Blush Nocturne",
    "category": "Adult intimacy toys",
}


def secret_product(vendor, *, applies_to_deliveries: bool = True):
    """A product in a sensitive classification, with neutral values for outside parties."""
    code = "intimate" if applies_to_deliveries else "intimate-shown"
    if obfuscation.classification(code) is None:
        obfuscation.create_classification(
            code, "Intimate products", applies_to_deliveries=applies_to_deliveries
        )
    product = create_product(
        vendor,
        title=SECRET["title"],
        description=SECRET["description"],
        sku="APW-DELUXE-01",
        price=Decimal("89.00"),
        inventory=3,
        brand=get_or_create_brand(SECRET["brand"]),
        category=get_or_create_category(SECRET["category"]),
    )
    product = obfuscation.product_for_obfuscation(product.id)
    obfuscation.save_obfuscation(
        product,
        classification_code=code,
        name="Personal care item",
        description="Household item, boxed.",
        category="Household",
        brand=None,
    )
    return product


def doordash_delivery(*, fee: str = "4.99", secret: bool = False, **fields):
    """A ``created`` delivery of a paid order for DoorDash; with ``secret`` its order holds an
    obfuscated product (and a plain line)."""
    vendor = established_shop()
    customer = customer_for_user(make_customer(full_name="Robin Recipient", phone="503-555-0123"))
    lines = [orders.LineItem(title="Greeting card", quantity=1, unit_price=Decimal("4.50"))]
    if secret:
        product = secret_product(vendor)
        lines.append(
            orders.LineItem(
                title=product.title, quantity=1, unit_price=product.price, product_id=product.id
            )
        )
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer.id,
        items=lines,
        delivery_fee=Decimal(fee),
        dropoff_address={"line1": "2 Home Ave", "city": "Portland", "state": "OR"},
    )
    orders.mark_paid(order)
    delivery = delivery_row(
        order, provider="doordash", customer_delivery_fee=Decimal(fee), **fields
    )
    db.session.flush()
    return delivery
