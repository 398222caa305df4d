"""The whole flow in Chromium: a shop marks an order ready, a driver on a phone (390x844) gets the
offer, accepts, steps through to the door and has the customer sign on the canvas, while the
customer's tracking page shows each step and the driver's marker on the map."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.customers.services import customer_for_user
from portal.deliveries.assignments import order_assignment
from portal.deliveries.dispatch import dispatch_delivery
from portal.deliveries.models import DeliveryAssignment, Driver
from portal.extensions import db
from portal.geo import point
from portal.orders import handling
from portal.orders import services as orders
from portal.orders.models import Order
from portal.vendors.services import vendor_for_user
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.browser.walk import axe_violations
from tests.deliveries.dispatch_helpers import DOOR, north
from tests.deliveries.helpers import CITY, verified_driver
from tests.factories import make_customer, make_vendor

pytestmark = pytest.mark.browser

# The driver's button, the status it leads to, what the customer's page then says.
STEPS = (
    ("Start to the shop", "enroute_to_pickup", "On the way to the shop"),
    ("Arrived at the shop", "arrived_at_pickup", "At the shop"),
    ("Picked up", "picked_up", "Picked up"),
    ("Start to the customer", "enroute_to_dropoff", "On the way to you"),
    ("Arrived at the customer", "arrived_at_dropoff", "Arrived"),
)


@pytest.fixture
def quick(app, monkeypatch):
    monkeypatch.setitem(app.config, "DRIVER_OFFER_POLL_SECONDS", 1)
    monkeypatch.setitem(app.config, "TRACKING_POLL_SECONDS", 1)


@pytest.fixture
def world(live_server, committed):
    owner = make_vendor(shop_name="Burnside Books")
    vendor = vendor_for_user(owner)
    vendor.location = point(*CITY)
    vendor.pickup_address = {"line1": "1005 W Burnside St", "city": "Portland"}
    buyer = customer_for_user(make_customer(full_name="Robin Recipient", phone="+1 503 555 0123"))
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=buyer.id,
        items=[orders.LineItem(title="Atlas", quantity=1, unit_price=Decimal("24.00"))],
        delivery_fee=Decimal("4.99"),
        dropoff_address={
            "line1": "2 Home Ave",
            "city": "Portland",
            "latitude": DOOR[0],
            "longitude": DOOR[1],
        },
    )
    orders.mark_paid(order)
    handling.accept_order(order)
    driver = verified_driver(north(0.3), full_name="Sam Courier")
    committed.commit()
    return owner, order.id, driver.email, driver.id


def reload_delivery(order_id) -> DeliveryAssignment:
    db.session.expire_all()
    return order_assignment(db.session.get(Order, order_id))


def test_ready_offer_accept_steps_signature_and_the_customer_follows(
    live_server, committed, page_factory, quick, world
):
    owner, order_id, driver_email, driver_id = world

    # The shop marks the order ready.
    shop = page_factory(LAPTOP)
    sign_in(shop, live_server, owner.email, lands_on="/vendor/")
    shop.goto(f"{live_server}/vendor/orders/")
    shop.click("button[aria-label^='Ready for pickup']")
    delivery = None
    for _ in range(50):
        delivery = reload_delivery(order_id)
        if delivery is not None:
            break
        shop.wait_for_timeout(100)
    assert delivery is not None and delivery.status == "created"

    # The worker's job: offered to the nearest driver.
    assert dispatch_delivery(str(delivery.id)) == "offered"

    driver = page_factory(PHONE)
    sign_in(driver, live_server, driver_email, lands_on="/driver/")
    driver.wait_for_selector("#offer", timeout=5_000)
    offer_text = driver.inner_text("#offer")
    assert "Burnside Books" in offer_text and "2 Home Ave" in offer_text
    assert "$4.00" in offer_text and "mi" in offer_text
    assert "left to answer" in offer_text
    driver.screenshot(path="test-artifacts/driver-offer.png", full_page=True)
    assert axe_violations(driver) == []
    driver.click("#offer-accept button")
    driver.wait_for_selector("#active-delivery[data-status=confirmed]")
    assert axe_violations(driver) == []
    assert driver.get_attribute("#navigate", "href").startswith("geo:45.515200,-122.678400")

    # The customer's page, opened from the mailed link.
    token = reload_delivery(order_id).tracking_token
    customer = page_factory(PHONE)
    customer.goto(f"{live_server}/track/{token}")
    assert customer.inner_text("#tracking-label") == "Driver assigned"
    customer.wait_for_selector("#tracking-map path.driver-marker", state="attached")

    for button, status, label in STEPS:
        driver.click(f"#next-step button:has-text('{button}')")
        driver.wait_for_selector(f"#active-delivery[data-status={status}]", timeout=5_000)
        customer.wait_for_function(
            "label => document.querySelector('#tracking-label').textContent === label",
            arg=label,
            timeout=5_000,
        )
        # The driver is on the customer's map all the way to the door.
        customer.wait_for_selector("#tracking-map path.driver-marker", state="attached")
    customer.screenshot(path="test-artifacts/tracking-driver-at-door.png", full_page=True)

    # At the door: the customer signs on the phone.
    driver.wait_for_selector("canvas[data-signature-pad]")
    assert axe_violations(driver) == []
    pad = driver.locator("canvas[data-signature-pad]")
    # The mouse draws in the viewport's coordinates: the pad in the middle of the screen, clear
    # of the bottom tab bar (the position panel above it pushed it under the bar).
    pad.evaluate("element => element.scrollIntoView({block: 'center'})")
    box = pad.bounding_box()
    driver.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    driver.mouse.down()
    for n in range(1, 12):
        driver.mouse.move(
            box["x"] + 20 + n * (box["width"] - 40) / 11,
            box["y"] + box["height"] * (0.7 if n % 2 else 0.3),
        )
    driver.mouse.up()
    assert driver.input_value("[data-signature-input]").startswith("data:image/png;base64,")
    driver.screenshot(path="test-artifacts/driver-signature.png", full_page=True)
    driver.click("#proof-signature button[type=submit]")
    driver.wait_for_selector("#work-done")
    assert "Delivered order" in driver.inner_text("#work-done")

    customer.wait_for_selector("#tracking-status[data-status=delivered]", timeout=5_000)
    assert customer.inner_text("#tracking-label") == "Delivered"
    delivery = reload_delivery(order_id)
    assert delivery.status == "delivered" and delivery.proof_of_delivery["method"] == "signature"
    assert db.session.get(Order, order_id).status == "delivered"
    assert db.session.get(Driver, driver_id).status == "available"
    assert driver.evaluate("document.documentElement.scrollWidth") <= 390
    for page in (driver, customer):
        assert [e for e in page.console_errors if "geolocation" not in e.lower()] == []


def test_the_countdown_runs_out_and_the_phone_moves_on(
    app, live_server, committed, page_factory, quick, world, monkeypatch
):
    monkeypatch.setitem(app.config, "DISPATCH_OFFER_SECONDS", 4)
    _owner, order_id, driver_email, _driver_id = world
    handling.mark_ready(db.session.get(Order, order_id))
    committed.commit()
    assert dispatch_delivery(str(reload_delivery(order_id).id)) == "offered"

    driver = page_factory(PHONE)
    sign_in(driver, live_server, driver_email, lands_on="/driver/")
    driver.wait_for_selector("#offer [data-countdown-text]")
    driver.wait_for_selector("text=This offer has expired.", timeout=8_000)
    assert driver.is_disabled("#offer-accept button")
    # The panel asks again: nothing to answer any more, the phone waits for the next offer.
    driver.wait_for_selector("#driver-work .empty-state", timeout=8_000)
    assert "Waiting for a delivery" in driver.inner_text("#driver-work")
    assert driver.console_errors == []
