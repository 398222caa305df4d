"""The demo's own drivers at work: drivers online around the city, and deliveries offered, under
way and delivered (rated, tipped), each moved through the dispatch and the driver's services."""

import random
from collections import Counter
from decimal import Decimal

import sqlalchemy as sa

from portal.catalog.services import create_product
from portal.customers.services import customer_for_user
from portal.deliveries.models import DeliveryAssignment, DeliveryOffer, Driver
from portal.deliveries.models_tracking import DeliveryRating
from portal.extensions import db
from portal.orders.models import Order
from portal.seed.dispatch import DELIVERIES, ONLINE_DRIVERS, seed_dispatch
from tests.deliveries.dispatch_helpers import shop_at
from tests.deliveries.helpers import CITY, driver_profile
from tests.factories import make_customer, make_driver

DOMAIN = "demo.example.com"


def test_seed_dispatch_leaves_deliveries_in_several_states(db_session):
    shop = shop_at()
    for n in range(3):
        create_product(shop, title=f"Book {n}", sku=f"BK-{n}", price=Decimal("12.00"), inventory=9)
    customer = customer_for_user(make_customer(full_name="Ana Lopez", phone="+1 503 555 0101"))
    customer.default_address = {"line1": "1 SE Ash St", "city": "Portland"}
    dana = driver_profile(make_driver(f"dana-rivers@{DOMAIN}", full_name="Dana Rivers"))
    dana.insurance_verified, dana.background_check_status = True, "clear"
    db.session.flush()

    result = seed_dispatch(random.Random(2026), city=CITY, domain=DOMAIN)

    assert result.drivers_online == len(ONLINE_DRIVERS)
    assert result.deliveries == dict(Counter(target for target, _ in DELIVERIES))
    statuses = Counter(db.session.scalars(sa.select(DeliveryAssignment.status)).all())
    assert statuses["delivered"] == 3 and statuses["picked_up"] == 1
    assert statuses["enroute_to_dropoff"] == 1 and statuses["created"] == 3
    # Canceled by the shop after pickup: on its way back, with the reason.
    [returning] = db.session.scalars(
        sa.select(DeliveryAssignment).where(DeliveryAssignment.status == "enroute_to_return")
    ).all()
    assert "The customer moved out this morning" in returning.status_reason
    # Two dropoffs without a point; no geocoder in the tests: both are flagged, at the minimum.
    unmapped = db.session.scalars(
        sa.select(DeliveryAssignment).where(DeliveryAssignment.dropoff_geocode.is_not(None))
    ).all()
    assert [d.dropoff_geocode for d in unmapped] == ["failed", "failed"]
    # The one offered waits for Dana, who stands at the shop.
    [offer] = db.session.scalars(
        sa.select(DeliveryOffer).where(DeliveryOffer.outcome == "pending")
    ).all()
    assert offer.driver_id == dana.id
    # Delivered ones moved their orders, were rated, and count for their drivers.
    delivered = db.session.scalars(
        sa.select(DeliveryAssignment).where(DeliveryAssignment.status == "delivered")
    ).all()
    assert all(d.proof_of_delivery["pin_verified"] for d in delivered)
    assert all(d.total_distance_miles is not None for d in delivered)
    orders = db.session.scalars(
        sa.select(Order.status).where(Order.id.in_([d.order_id for d in delivered]))
    ).all()
    assert set(orders) == {"delivered"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryRating)) == 3
    counted = db.session.scalar(sa.select(sa.func.sum(Driver.total_deliveries)))
    assert counted == 3
    online = db.session.scalar(
        sa.select(sa.func.count()).where(Driver.status.in_(("available", "on_delivery")))
    )
    assert online >= len(ONLINE_DRIVERS)
