"""What a delivery costs and takes: its distance, ETA, the driver's pay, the customer's fee, the
route drawn on a map.

One home for the formulas, with their rates in ``portal/config.py``: the dispatch prices each
delivery with them when a shop marks an order ready, and the storefront's checkout quotes the
customer's fee with the same :func:`delivery_fee` / :func:`quote_delivery_fee`.

- distance: the great-circle distance (haversine, on PostGIS's mean earth radius, so it agrees
  with ``ST_Distance(geography, geography, false)`` and the dispatch's ``<->``) times
  ``DELIVERY_ROAD_FACTOR``, in miles to the hundredth;
- ETA: distance / ``DELIVERY_SPEED_MPH``, in whole minutes rounded up;
- driver pay: ``DRIVER_PAY_BASE`` + ``DRIVER_PAY_PER_MILE`` x miles + ``DRIVER_PAY_PER_MINUTE`` x
  minutes, at least ``DRIVER_PAY_MINIMUM``;
- customer fee: ``DELIVERY_FEE_BASE`` + ``DELIVERY_FEE_PER_MILE`` x the miles beyond
  ``DELIVERY_FEE_INCLUDED_MILES``, at least ``DELIVERY_FEE_MINIMUM``;
- route: a straight segment from pickup to dropoff as an encoded polyline (PostGIS
  ``ST_AsEncodedPolyline``, Google's format, five decimals).

Every figure is a ``Decimal``; amounts are rounded half up to the cent once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..money import to_money

#: PostGIS's sphere (ST_Distance on geography without the spheroid): 6,371,008.8 m.
EARTH_RADIUS_MILES = 6_371_008.8 / 1609.344
MILE = Decimal("0.01")
ZERO = Decimal("0")

LatLng = tuple[float, float]


@dataclass(frozen=True)
class Trip:
    """A delivery's trip from the pickup to the dropoff, priced."""

    distance_miles: Decimal
    eta_minutes: int
    driver_pay: Decimal
    customer_fee: Decimal  # what checkout would quote for it


def great_circle_miles(a: LatLng, b: LatLng) -> Decimal:
    """The great-circle distance between two (latitude, longitude) points, in miles."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    miles = 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
    # Floats end here: a distance is measured, never money, but what follows is Decimal.
    return Decimal(repr(round(miles, 6)))


def road_miles(a: LatLng, b: LatLng) -> Decimal:
    """The distance a driver covers: great-circle x ``DELIVERY_ROAD_FACTOR``, to the hundredth."""
    factor = current_app.config["DELIVERY_ROAD_FACTOR"]
    return (great_circle_miles(a, b) * factor).quantize(MILE, rounding=ROUND_HALF_UP)


def eta_minutes(distance_miles: Decimal) -> int:
    """Minutes at ``DELIVERY_SPEED_MPH``, rounded up (a trip of any length takes a minute)."""
    speed = current_app.config["DELIVERY_SPEED_MPH"]
    if speed <= 0:
        raise ValueError("DELIVERY_SPEED_MPH must be above zero")
    minutes = (Decimal(distance_miles) * 60 / speed).to_integral_value(rounding=ROUND_CEILING)
    return max(1, int(minutes))


def driver_pay(distance_miles: Decimal, minutes: int) -> Decimal:
    """Base + per mile + per minute, at least the minimum."""
    config = current_app.config
    pay = (
        config["DRIVER_PAY_BASE"]
        + config["DRIVER_PAY_PER_MILE"] * Decimal(distance_miles)
        + config["DRIVER_PAY_PER_MINUTE"] * minutes
    )
    return to_money(max(pay, config["DRIVER_PAY_MINIMUM"]))


def minimum_driver_pay() -> Decimal:
    """What a delivery of unknown length pays (its dropoff has no coordinates)."""
    return to_money(current_app.config["DRIVER_PAY_MINIMUM"])


def delivery_fee(distance_miles: Decimal) -> Decimal:
    """The customer's delivery fee: base + per mile beyond the included miles, at least the
    minimum. Checkout quotes with this function."""
    config = current_app.config
    beyond = max(ZERO, Decimal(distance_miles) - config["DELIVERY_FEE_INCLUDED_MILES"])
    fee = config["DELIVERY_FEE_BASE"] + config["DELIVERY_FEE_PER_MILE"] * beyond
    return to_money(max(fee, config["DELIVERY_FEE_MINIMUM"]))


def trip(pickup: LatLng, dropoff: LatLng) -> Trip:
    """The trip between two points, with the driver's pay and the customer's fee for it."""
    miles = road_miles(pickup, dropoff)
    minutes = eta_minutes(miles)
    return Trip(miles, minutes, driver_pay(miles, minutes), delivery_fee(miles))


def quote_delivery_fee(pickup: LatLng, dropoff: LatLng) -> Decimal:
    """What checkout charges for delivering from ``pickup`` to ``dropoff``."""
    return delivery_fee(road_miles(pickup, dropoff))


def route_polyline(pickup: LatLng, dropoff: LatLng) -> str:
    """The route as an encoded polyline: a straight segment (no road network offline), by
    PostGIS's ``ST_AsEncodedPolyline`` (x = longitude, y = latitude, five decimals)."""

    def make_point(lat_name: str, lng_name: str):
        return sa.func.ST_SetSRID(
            sa.func.ST_MakePoint(sa.bindparam(lng_name), sa.bindparam(lat_name)), 4326
        )

    line = sa.func.ST_MakeLine(make_point("lat1", "lng1"), make_point("lat2", "lng2"))
    return db.session.scalar(
        sa.select(sa.func.ST_AsEncodedPolyline(line, 5)),
        {"lat1": pickup[0], "lng1": pickup[1], "lat2": dropoff[0], "lng2": dropoff[1]},
    )
