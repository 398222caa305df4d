"""The demo's obfuscation and DoorDash delivery (portal/seed/provider.py), against the local
DoorDash server; a second run changes nothing; without the server the delivery is left out."""

from __future__ import annotations

import random

import sqlalchemy as sa

from portal.customers.services import customer_for_user
from portal.deliveries.models import DeliveryAssignment
from portal.deliveries.providers.models import ProviderDelivery
from portal.extensions import db
from portal.obfuscation.models import ObfuscationClassification, ProductObfuscation
from portal.seed.provider import CLASSIFICATION, SHOP, seed_provider
from portal.vendors.services import vendor_for_user
from tests.factories import make_customer, make_vendor


def _world():
    vendor = vendor_for_user(make_vendor(shop_name=SHOP))
    vendor.pickup_address = {"line1": "2225 NE Alberta St", "city": "Portland", "state": "OR"}
    customer = customer_for_user(make_customer(phone="503 555 0188"))
    customer.default_address = {"line1": "3 Elm St", "city": "Portland", "state": "OR"}
    db.session.commit()


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_seed_obfuscates_products_and_has_a_doordash_delivery_under_way(
    db_session, app_doordash
):
    _world()
    result = seed_provider(random.Random(7))
    assert result.skipped is None and len(result.obfuscated) == 2
    assert db.session.scalar(sa.select(ObfuscationClassification.classification_code)) == (
        CLASSIFICATION
    )
    assert _count(ProductObfuscation) == 2
    delivery = db.session.scalar(sa.select(DeliveryAssignment))
    assert delivery.provider == "doordash" and delivery.status == "picked_up"
    assert delivery.tracking_url.startswith(app_doordash.url)
    row = db.session.get(ProviderDelivery, delivery.id)
    assert row.fee is not None and row.driver_name == "Dana D." and row.driver_location is not None
    [booked] = app_doordash.deliveries()
    assert booked["delivery_status"] == "picked_up"
    assert {item["name"] for item in booked["items"]} == {
        "Personal care device",
        "Personal care liquid",
    }

    again = seed_provider(random.Random(7))
    assert again.delivery_id == result.delivery_id
    assert _count(ProductObfuscation) == 2 and _count(DeliveryAssignment) == 1
    assert len(app_doordash.deliveries()) == 1


def test_without_the_local_server_the_delivery_is_left_out(db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "DOORDASH_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setitem(app.config, "DOORDASH_MAX_ATTEMPTS", 1)
    monkeypatch.delitem(app.extensions, "doordash_gateway", raising=False)
    _world()
    result = seed_provider(random.Random(7))
    app.extensions.pop("doordash_gateway", None)
    assert result.delivery_id is None and "127.0.0.1:9" in result.skipped
    assert _count(ProductObfuscation) == 2
