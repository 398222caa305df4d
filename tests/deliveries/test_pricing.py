"""The delivery's figures: distance, ETA, driver pay, the customer's fee and the route, against
values worked out by hand (and PostGIS's own great-circle distance)."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.deliveries import pricing
from portal.extensions import db

SHOP = (45.5152, -122.6784)  # downtown Portland
DOOR = (45.5231, -122.6765)


@pytest.fixture
def rates(app, monkeypatch):
    for key, value in {
        "DELIVERY_ROAD_FACTOR": Decimal("1.30"),
        "DELIVERY_SPEED_MPH": Decimal("15"),
        "DRIVER_PAY_BASE": Decimal("2.50"),
        "DRIVER_PAY_PER_MILE": Decimal("0.70"),
        "DRIVER_PAY_PER_MINUTE": Decimal("0.15"),
        "DRIVER_PAY_MINIMUM": Decimal("4.00"),
        "DELIVERY_FEE_BASE": Decimal("2.99"),
        "DELIVERY_FEE_PER_MILE": Decimal("0.75"),
        "DELIVERY_FEE_INCLUDED_MILES": Decimal("2"),
        "DELIVERY_FEE_MINIMUM": Decimal("3.49"),
    }.items():
        monkeypatch.setitem(app.config, key, value)


def test_great_circle_agrees_with_postgis(db_session):
    meters = db.session.scalar(
        sa.text(
            "SELECT ST_Distance(ST_MakePoint(:lng1, :lat1)::geography, "
            "ST_MakePoint(:lng2, :lat2)::geography, false)"
        ),
        {"lat1": SHOP[0], "lng1": SHOP[1], "lat2": DOOR[0], "lng2": DOOR[1]},
    )
    miles = pricing.great_circle_miles(SHOP, DOOR)
    assert isinstance(miles, Decimal)
    assert abs(float(miles) - meters / 1609.344) < 1e-5
    # One degree of latitude is 69.09 miles on PostGIS's sphere.
    assert abs(pricing.great_circle_miles((45, -122), (46, -122)) - Decimal("69.093")) < Decimal(
        "0.001"
    )


def test_the_trip_is_priced_by_the_configured_formulas(app, db_session, rates):
    # 10 miles of great circle north: 13.00 road miles, 52 minutes at 15 mph.
    north = (45 + 10 / 69.0934, -122)
    trip = pricing.trip((45, -122), north)
    assert trip.distance_miles == Decimal("13.00")
    assert trip.eta_minutes == 52
    # 2.50 + 0.70 x 13 + 0.15 x 52 = 19.40
    assert trip.driver_pay == Decimal("19.40")
    # 2.99 + 0.75 x (13 - 2) = 11.24
    assert trip.customer_fee == Decimal("11.24")
    assert pricing.quote_delivery_fee((45, -122), north) == Decimal("11.24")


def test_minimums_and_rounding(app, db_session, rates):
    assert pricing.driver_pay(Decimal("0.30"), 2) == Decimal("4.00")  # 3.01 is below the minimum
    assert pricing.delivery_fee(Decimal("1.50")) == Decimal("3.49")  # inside the included miles
    assert pricing.delivery_fee(Decimal("2.67")) == Decimal("3.49")  # 2.99 + 0.5025 = 3.4925
    assert pricing.delivery_fee(Decimal("2.70")) == Decimal("3.52")  # 3.515 rounds half up
    assert pricing.eta_minutes(Decimal("0.01")) == 1
    assert pricing.eta_minutes(Decimal("2.50")) == 10
    assert pricing.eta_minutes(Decimal("2.51")) == 11  # rounded up


def test_the_route_is_an_encoded_polyline(db_session):
    # Google's documented example of the format.
    assert pricing.route_polyline((38.5, -120.2), (40.7, -120.95)) == "_p~iF~ps|U_ulLnnqC"
