"""The owner edits the shop profile in Chromium and places the pickup pin on the Leaflet map."""

import pytest
from playwright.sync_api import expect

from portal.vendors.profile import position_of
from portal.vendors.services import vendor_for_user
from tests.browser.conftest import LAPTOP
from tests.factories import PASSWORD, make_vendor

pytestmark = pytest.mark.browser


def test_owner_edits_the_profile_and_picks_the_position_on_the_map(
    app, live_server, committed, page_factory
):
    assert app.config["MAP_TILE_URL"] == ""  # no internet: the map shows without tiles
    owner = make_vendor(shop_name="Map Books")
    committed.commit()

    page = page_factory(LAPTOP)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/vendor/")
    page.click("text=Shop profile")
    page.wait_for_url(f"{live_server}/vendor/shop/")
    expect(page.locator("#pickup-map")).to_have_attribute("data-map-drawn", "1")

    page.fill("textarea[name=description]", "Maps and travel books.")
    page.fill("input[name=line1]", "12 Harbour Road")
    page.fill("input[name=city]", "Portsmouth")
    page.fill("input[name=country]", "United Kingdom")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.uncheck(f"#{day}-closed")
        page.fill(f"input[name={day}-opens]", "09:00")
        page.fill(f"input[name={day}-closes]", "17:00")

    # A click on the map places the pin and fills the coordinates.
    page.locator("#pickup-map").click(position={"x": 420, "y": 120})
    expect(page.locator("input[name=latitude]")).not_to_have_value("")
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
    latitude = float(page.input_value("input[name=latitude]"))
    longitude = float(page.input_value("input[name=longitude]"))
    assert -90 <= latitude <= 90 and -180 <= longitude <= 180

    # Typing coordinates moves the pin; the map follows.
    page.fill("input[name=latitude]", "50.800000")
    page.fill("input[name=longitude]", "-1.090000")
    page.screenshot(path="test-artifacts/shop-profile-edit.png", full_page=True)

    # An invalid day is refused in place, with what was typed kept.
    page.fill("input[name=fri-closes]", "08:00")
    page.click("text=Save profile")
    expect(page.locator("#hours-fri")).to_contain_text("closing time must be after")
    expect(page.locator("input[name=line1]")).to_have_value("12 Harbour Road")
    page.fill("input[name=fri-closes]", "17:00")
    page.click("text=Save profile")
    # A toast says so where the user is looking (from the HX-Trigger event), not 2,000 px above.
    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Your shop profile is saved.")
    expect(toast).to_be_in_viewport()
    expect(page.locator("input[name=latitude]")).to_have_value("50.800000")
    expect(page.locator("#pickup-map")).to_have_attribute("data-map-drawn", "1")
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
    # Leaflet's zoom buttons keep their own square look under Pico's link styles.
    zoom_in = page.locator(".leaflet-control-zoom-in").bounding_box()
    assert (round(zoom_in["width"]), round(zoom_in["height"])) == (30, 30), zoom_in
    page.screenshot(path="test-artifacts/shop-profile-saved.png", full_page=True)

    page.reload()
    expect(page.locator("input[name=city]")).to_have_value("Portsmouth")
    with app.app_context():
        vendor = vendor_for_user(owner)
        position = position_of(vendor)
        assert (round(position.latitude, 6), round(position.longitude, 6)) == (50.8, -1.09)
        assert vendor.opening_hours["mon"] == [["09:00", "17:00"]]
        assert vendor.opening_hours["sun"] == []
    # Chromium logs every 4xx response; the one 422 is the refused hours above, by design.
    errors = [text for text in page.console_errors if "status of 422" not in text]
    assert errors == []
