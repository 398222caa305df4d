"""The vendor's referrals page in Chromium on a laptop: the link builder updates the link and its
QR code as the vendor types, copy works, the period picker swaps the figures, the chart draws, and
axe finds nothing serious."""

import pytest
from playwright.sync_api import expect

from portal.vendors.services import vendor_for_user
from tests.browser.conftest import LAPTOP, sign_in
from tests.browser.walk import axe_violations
from tests.factories import make_vendor
from tests.referrals.page_data import add_day, add_visit, days_ago

pytestmark = pytest.mark.browser


def test_vendor_builds_a_link_and_reads_the_figures(live_server, committed, page_factory):
    owner = make_vendor(shop_name="Chromium Referrals")
    vendor = vendor_for_user(owner)
    code = vendor.referral_code
    add_day(
        vendor,
        days_ago(3),
        source="instagram",
        campaign="spring",
        visits=40,
        conversions=2,
        orders=2,
        revenue="80.00",
    )
    add_day(vendor, days_ago(200), source="flyer", visits=9)
    for n in range(2):
        add_visit(
            vendor,
            days_ago(4),
            source="instagram",
            campaign="spring",
            converted_on=days_ago(3),
            lifetime_value="40.00",
            session_id=f"b{n}",
        )
    committed.commit()

    page = page_factory(LAPTOP)
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server}/vendor/referrals/")
    assert page.input_value("#shop-link-url").endswith(f"/r/{code}")
    expect(page.locator("#referral-chart")).to_have_attribute("data-drawn", "1")
    assert "instagram" in page.inner_text("#referral-sources")
    assert "flyer" not in page.inner_text("#referral-sources")
    assert page.inner_text("#total-ltv .stat") == "$40.00"
    assert axe_violations(page) == []

    before = page.inner_html("#built-link svg")
    page.fill("input[name=utm_source]", "poster")
    page.fill("input[name=utm_campaign]", "market day")
    expect(page.locator("#built-link-url")).to_have_value(
        page.input_value("#shop-link-url") + "?utm_source=poster&utm_campaign=market+day"
    )
    assert page.inner_html("#built-link svg") != before  # the QR code follows the link
    assert "utm_source=poster" in page.get_attribute("#qr-png", "href")

    page.click("#built-link button[data-copy]")
    expect(page.locator("#built-link [data-copy-status]")).not_to_have_text("")

    with page.expect_download() as download:
        page.click("#qr-png")
    assert download.value.suggested_filename == f"referral-{code}-marketday.png"

    page.evaluate("window.notReloaded = true")
    page.select_option("select[name=period]", "all")
    expect(page.locator("#referral-sources")).to_contain_text("flyer")
    assert page.evaluate("window.notReloaded") is True
    assert "period=all" in page.url
    expect(page.locator("#referral-chart")).to_have_attribute("data-drawn", "1")
    # The "Loading…" indicator fades out after the swap: axe must not read it half-faded.
    expect(page.locator("#report-loading")).to_have_css("opacity", "0")
    assert axe_violations(page) == []
    page.screenshot(path="test-artifacts/vendor-referrals.png", full_page=True)
    assert page.console_errors == []


def test_an_empty_shop_says_what_to_do(live_server, committed, page_factory):
    owner = make_vendor(shop_name="Quiet Shop")
    committed.commit()
    page = page_factory(LAPTOP)
    sign_in(page, live_server, owner.email)
    page.goto(f"{live_server}/vendor/referrals/")
    expect(page.locator(".empty-state")).to_contain_text("No visits through your link")
    assert axe_violations(page) == []
    assert page.console_errors == []
