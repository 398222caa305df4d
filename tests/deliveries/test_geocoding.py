"""A dropoff without a point is geocoded when its delivery is made, through Nominatim's /search
API, against the local geocoder over loopback; an address it does not know (or a geocoder that
does not answer) is flagged on the shop's and the admin's delivery views, not silently priced."""

from __future__ import annotations

import socket

import requests

from portal.deliveries import geocoding, pricing
from portal.deliveries.assignments import order_assignment
from portal.extensions import db
from portal.orders import handling
from tests.deliveries.dispatch_helpers import ready_order, shop_at
from tests.factories import make_admin
from tests.orders.helpers import paid_order

HAWTHORNE = {"line1": "3500 SE Hawthorne Blvd", "city": "Portland", "state": "OR", "country": "US"}
UNKNOWN = {"line1": "12 Nowhere Lane", "city": "Portland", "state": "OR"}


def make_ready(address):
    """A ready order whose dropoff is ``address`` (no point), and its delivery."""
    vendor = shop_at()
    order = paid_order(vendor)
    order.dropoff_address = dict(address)
    db.session.flush()
    handling.accept_order(order)
    handling.mark_ready(order)
    return order, order_assignment(order)


def test_a_dropoff_without_a_point_is_geocoded_and_priced(db_session, app_geocoder):
    _, delivery = make_ready(HAWTHORNE)
    assert delivery.dropoff_geocode == "found"
    assert delivery.dropoff_location is not None
    assert delivery.total_distance_miles > 0 and delivery.eta_minutes > 0
    assert delivery.driver_pay > pricing.minimum_driver_pay()
    assert delivery.route_polyline
    [asked] = app_geocoder.received()
    assert asked["q"] == "3500 SE Hawthorne Blvd, Portland, OR, US"
    assert asked["format"] == "jsonv2" and asked["limit"] == "1"
    assert asked["user_agent"].startswith("marketplace-portal/")


def test_a_dropoff_with_its_point_asks_nothing(db_session, app_geocoder):
    _, delivery = ready_order(shop_at())
    assert delivery.dropoff_geocode is None and delivery.total_distance_miles > 0
    assert app_geocoder.received() == []


def test_the_wire_format_is_nominatims(app_geocoder):
    answer = requests.get(
        app_geocoder.url + "/search",
        params={"q": "3552 N Mississippi Ave, Portland, OR", "format": "jsonv2", "limit": 1},
        headers={"User-Agent": "test"},
        timeout=5,
    )
    [place] = answer.json()
    assert isinstance(place["lat"], str) and isinstance(place["lon"], str)
    assert abs(float(place["lat"]) - 45.5488) < 0.001 and place["category"] == "place"
    no_agent = requests.get(
        app_geocoder.url + "/search",
        params={"q": "x", "format": "jsonv2"},
        headers={"User-Agent": ""},
        timeout=5,
    )
    assert no_agent.status_code == 403


def test_an_unknown_address_is_flagged_for_the_shop_and_the_admin(
    client, auth, db_session, app_geocoder
):
    order, delivery = make_ready(UNKNOWN)
    assert delivery.dropoff_geocode == "not_found" and delivery.dropoff_location is None
    assert delivery.driver_pay == pricing.minimum_driver_pay()
    db.session.commit()
    flag = "The map does not know this address"

    owner = order.vendor.members[0].user
    auth.login(owner.email)
    assert flag in client.get("/vendor/deliveries/").get_data(as_text=True)
    assert flag in client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    auth.logout()
    auth.login(make_admin().email)
    assert flag in client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert flag in client.get("/admin/deliveries/").get_data(as_text=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_geocoder_that_does_not_answer_is_flagged_too(db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "GEOCODER_URL", f"http://127.0.0.1:{free_port()}")
    _, delivery = make_ready(HAWTHORNE)
    assert delivery.dropoff_geocode == "failed" and delivery.dropoff_location is None
    assert delivery.driver_pay == pricing.minimum_driver_pay()


def test_the_outcomes_without_an_address_or_a_geocoder(db_session, app, monkeypatch):
    assert geocoding.geocode({}).outcome == "not_found"
    monkeypatch.setitem(app.config, "GEOCODER_URL", "")
    assert geocoding.geocode(HAWTHORNE) == geocoding.Geocoded("failed")
