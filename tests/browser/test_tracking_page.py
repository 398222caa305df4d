"""The customer's tracking page on a phone, in Chromium: the timeline, the driver on the map with
the map tiles unreachable, the status following changes committed elsewhere by polling, the
polling stopping at delivery, and the rating."""

from decimal import Decimal

import pytest

from portal.deliveries.models import Driver
from portal.extensions import db
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import move_to, tracked
from tests.factories import make_admin

pytestmark = pytest.mark.browser

TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@pytest.fixture
def quick_tiled_page(app, monkeypatch):
    """Polls every second; the map asks for real tiles, which the test then blocks."""
    monkeypatch.setitem(app.config, "TRACKING_POLL_SECONDS", 1)
    monkeypatch.setitem(app.config, "MAP_TILE_URL", TILES)


def test_the_phone_follows_the_delivery_to_the_door_and_rates_it(
    live_server, committed, page_factory, quick_tiled_page
):
    driver = verified_driver((45.5200, -122.6750), full_name="Sam Courier")
    delivery = tracked("enroute_to_pickup", driver=driver, proof_of_delivery={"pin": "7305"})
    committed.commit()

    page = page_factory(PHONE)
    blocked, polls = [], []
    page.route(
        "https://tile.openstreetmap.org/**",
        lambda route: (blocked.append(route.request.headers.get("referer")), route.abort()),
    )
    page.on("request", lambda request: polls.append(1) if request.url.endswith("/status") else None)
    page.goto(f"{live_server}/track/{delivery.tracking_token}")

    assert page.inner_text("#tracking-label") == "On the way to the shop"
    timeline = page.inner_text("#tracking-timeline")
    assert timeline.index("Driver assigned") < timeline.index("On the way to you")
    assert "Give this PIN to your driver" in page.inner_text("#tracking-pin")
    assert "Sam is bringing your order" in page.inner_text("#tracking-status")
    page.wait_for_selector("#tracking-map path.driver-marker", state="attached")
    page.wait_for_selector("#tracking-map path.shop-marker", state="attached")
    page.wait_for_function("() => document.querySelector('#tracking-map').dataset.mapDrawn")
    assert blocked, "the map should have asked for tiles (and been refused)"
    assert set(blocked) == {f"{live_server}/"}  # the site, never the token's address
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="test-artifacts/tracking-phone.png", full_page=True)

    # A step committed elsewhere (the driver's phone): the page shows it by itself.
    db.session.refresh(delivery)
    move_to(delivery, "picked_up")
    committed.commit()
    page.wait_for_function(
        "() => document.querySelector('#tracking-label').textContent === 'Picked up'",
        timeout=5_000,
    )

    db.session.refresh(delivery)
    move_to(delivery, "delivered")
    committed.commit()
    page.wait_for_selector("#tracking-status[data-status=delivered]", timeout=5_000)
    assert page.inner_text("#tracking-label") == "Delivered"
    assert page.locator("#tracking-pin").count() == 0
    page.wait_for_selector(".tracking-map-card", state="hidden")  # nobody to follow any more
    assert page.get_attribute("#tracking-status", "hx-trigger") is None
    seen = len(polls)
    page.wait_for_timeout(2_500)
    assert len(polls) == seen, "polling should stop once the delivery is delivered"

    page.click("label.star-choice:has(input[value='4'])")
    page.fill("#rating-comment", "Found the side door")
    page.screenshot(path="test-artifacts/tracking-phone-delivered.png", full_page=True)
    page.click("#tracking-rating button[type=submit]")
    page.wait_for_selector("#rating-thanks")
    assert "4 stars" in page.inner_text("#rating-thanks")
    db.session.expire_all()
    assert db.session.get(Driver, driver.id).rating == Decimal("4.00")
    unexpected = [e for e in page.console_errors if "tile.openstreetmap.org" not in e]
    assert [e for e in unexpected if "ERR_FAILED" not in e] == []


def test_the_page_shows_the_status_without_any_map_script(live_server, committed, page_factory):
    """Leaflet unreachable too: the status and timeline are plain HTML."""
    delivery = tracked("picked_up")
    committed.commit()
    page = page_factory(PHONE)
    page.route("**/static/vendor/leaflet/**", lambda route: route.abort())
    page.goto(f"{live_server}/track/{delivery.tracking_token}")
    assert page.inner_text("#tracking-label") == "Picked up"
    assert "On the way to you" in page.inner_text("#tracking-timeline")


def test_the_admin_board_maps_deliveries_and_drivers(live_server, committed, page_factory):
    admin = make_admin()
    carrying = verified_driver((45.5200, -122.6750))
    verified_driver((45.5000, -122.6500))  # available, no delivery
    tracked("picked_up", driver=carrying)
    committed.commit()
    page = page_factory(LAPTOP)
    sign_in(page, live_server, admin.email, lands_on="/admin/")
    page.goto(f"{live_server}/admin/deliveries/")
    # The delivery's pickup and dropoff, its driver, and the available driver.
    page.wait_for_function("() => document.querySelector('#board-map').dataset.markers === '4'")
    assert page.locator("#board-map path.driver-marker").count() == 1
    assert page.locator("#board-map path.available-marker").count() == 1
    assert "1 delivery under way" in page.inner_text("#board-counts")
    page.screenshot(path="test-artifacts/delivery-board.png")
