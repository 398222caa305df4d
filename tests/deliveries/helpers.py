"""Drivers and deliveries for the deliveries tests: a verified driver somewhere, a ready order's
delivery row. Positions are (latitude, longitude) around Portland, the demo city."""

from __future__ import annotations

import sqlalchemy as sa

from portal.deliveries import states
from portal.deliveries.models import DeliveryAssignment, Driver
from portal.extensions import db
from portal.geo import point
from tests.factories import make_driver
from tests.orders.helpers import established_shop, paid_order

CITY = (45.5152, -122.6784)


def driver_profile(user) -> Driver:
    return db.session.scalar(sa.select(Driver).where(Driver.user_id == user.id))


def verified_driver(
    at: tuple[float, float] = CITY, *, status: str = "available", **fields
) -> Driver:
    """A driver whose insurance is verified and background check clear, at ``at``."""
    driver = driver_profile(make_driver(**fields))
    driver.insurance_verified = True
    driver.background_check_status = "clear"
    driver.current_location = point(*at)
    driver.status = status
    db.session.flush()
    return driver


def delivery_row(order=None, *, pickup=CITY, dropoff=(45.5231, -122.6765), **fields):
    """A ``created`` internal delivery of a paid order, with its first history row."""
    order = order or paid_order(established_shop())
    delivery = DeliveryAssignment(
        order_id=order.id,
        order_created_at=order.created_at,
        vendor_id=order.vendor_id,
        provider=fields.pop("provider", "internal"),
        pickup_address=fields.pop("pickup_address", {"line1": "1 Shop St", "city": "Portland"}),
        dropoff_address=fields.pop("dropoff_address", {"line1": "2 Home Ave", "city": "Portland"}),
        pickup_location=point(*pickup),
        dropoff_location=point(*dropoff),
        **fields,
    )
    db.session.add(delivery)
    db.session.flush()
    states.record_creation(delivery, source="system")
    db.session.flush()
    return delivery
