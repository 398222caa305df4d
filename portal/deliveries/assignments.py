"""The delivery row of a ready order: both stops and points, the priced trip, the route, the
customer's tracking token and the PIN they hand the driver.

Made once per order when the shop marks it ready for pickup, whoever then carries it (our
drivers through the dispatch, or an external provider through ``providers.services
.hand_to_provider``). Like every service: explicit arguments, ``flush()`` and never commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from geoalchemy2 import Geometry

from ..clock import utcnow
from ..extensions import db
from ..geo import point
from ..orders.tips import tip_of
from . import geocoding, pricing, states
from .models import DeliveryAssignment

#: The keys a dropoff address may carry its point under (the storefront's order event, the demo).
COORDINATE_KEYS = (("latitude", "longitude"), ("lat", "lng"), ("lat", "lon"))


def dropoff_point(address: dict | None) -> tuple[float, float] | None:
    """The (latitude, longitude) a dropoff address carries, or None (none, or not a point)."""
    for lat_key, lng_key in COORDINATE_KEYS:
        if address and lat_key in address and lng_key in address:
            try:
                latitude, longitude = float(address[lat_key]), float(address[lng_key])
            except (TypeError, ValueError):
                return None
            if -90 <= latitude <= 90 and -180 <= longitude <= 180:
                return latitude, longitude
            return None
    return None


def vendor_point(vendor_id) -> tuple[float, float] | None:
    """The shop's pickup point as (latitude, longitude), read back through PostGIS."""
    from ..vendors.models import Vendor

    geometry = sa.cast(Vendor.location, Geometry)
    row = db.session.execute(
        sa.select(sa.func.ST_Y(geometry), sa.func.ST_X(geometry)).where(Vendor.id == vendor_id)
    ).one_or_none()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1])


def new_pin() -> str:
    """``DELIVERY_PIN_DIGITS`` random digits (leading zeros kept)."""
    digits = current_app.config["DELIVERY_PIN_DIGITS"]
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def order_assignment(order, *, lock: bool = False) -> DeliveryAssignment | None:
    """The order's delivery row, if it has one (the latest); ``lock``: its row locked."""
    query = (
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.order_id == order.id)
        .order_by(DeliveryAssignment.created_at.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def create_assignment(
    order, *, provider: str = "internal", source: str = "vendor", at: datetime | None = None
) -> DeliveryAssignment:
    """The order's delivery row, made here unless the order has one already.

    Pickup is the shop (its address and point), dropoff the order's address and the point it
    carries (``latitude``/``longitude``), else the point the geocoder finds for the address
    (asked here, in the request: the dispatch's offer needs the pay; ``dropoff_geocode`` keeps
    the outcome). With both points: the distance, ETA, driver pay and a straight route; without
    a dropoff point the trip is unknown, the driver is paid the minimum and the shop's and
    admin's views flag the address. ``customer_delivery_fee`` is what the customer paid.
    """
    existing = order_assignment(order)
    if existing is not None:
        return existing
    at = at or utcnow()
    vendor = order.vendor
    pickup = vendor_point(vendor.id)
    dropoff = dropoff_point(order.dropoff_address)
    geocoded = None if dropoff else geocoding.geocode(order.dropoff_address)
    if geocoded is not None:
        dropoff = geocoded.point
    trip = pricing.trip(pickup, dropoff) if pickup and dropoff else None
    assignment = DeliveryAssignment(
        order_id=order.id,
        order_created_at=order.created_at,
        vendor_id=vendor.id,
        provider=provider,
        status="created",
        pickup_address=vendor.pickup_address or {},
        dropoff_address=order.dropoff_address or {},
        pickup_location=point(*pickup) if pickup else None,
        dropoff_location=point(*dropoff) if dropoff else None,
        total_distance_miles=trip.distance_miles if trip else None,
        eta_minutes=trip.eta_minutes if trip else None,
        driver_pay=trip.driver_pay if trip else pricing.minimum_driver_pay(),
        customer_delivery_fee=order.delivery_fee,
        driver_tip=tip_of(order),  # the customer's tip in the order event, in full
        route_polyline=pricing.route_polyline(pickup, dropoff) if trip else None,
        tracking_token=secrets.token_urlsafe(32),
        delivery_pin=new_pin(),
        dropoff_geocode=geocoded.outcome if geocoded else None,
        created_at=at,
        updated_at=at,
    )
    db.session.add(assignment)
    db.session.flush()
    states.record_creation(assignment, source=source, at=at)
    db.session.flush()
    return assignment
