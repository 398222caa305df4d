"""The vendor's money pages and the admin's tier pages, driven in Chromium."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.orders import services as orders
from portal.vendors.services import vendor_for_user
from tests import second_factor
from tests.browser.conftest import LAPTOP, sign_in
from tests.factories import make_admin, make_vendor

pytestmark = pytest.mark.browser


def test_vendor_dashboard_and_statement(live_server, committed, page_factory):
    owner = make_vendor(shop_name="Chromium Books")
    vendor = vendor_for_user(owner)
    last_month = (datetime.now(UTC).replace(day=1) - timedelta(days=2)).replace(hour=10)
    for n in range(30):
        at = last_month if n < 3 else None
        order = orders.place_order(
            vendor_id=vendor.id,
            items=[orders.LineItem(title=f"Book {n}", quantity=1, unit_price=Decimal(100 + n))],
            placed_at=at,
        )
        orders.mark_paid(order, at)
    committed.commit()

    page = page_factory(LAPTOP)
    sign_in(page, live_server, owner.email)
    page.wait_for_url(f"{live_server}/vendor/")
    assert "Bronze" in page.inner_text("#tier-card")
    assert "more this month earns Silver" in page.inner_text("#month-sales")
    # Chart.js drew the year of sales into the canvas.
    expect(page.locator("#sales-chart")).to_have_attribute("data-drawn", "1")
    page.screenshot(path="test-artifacts/vendor-dashboard.png", full_page=True)

    page.click("text=Commission statement")
    page.wait_for_url(f"{live_server}/vendor/commissions/")
    assert "30 rows" in page.inner_text("#statement")
    page.evaluate("window.notReloaded = true")

    page.click("text=Older →")
    expect(page.locator("#statement")).to_contain_text("← Newer")  # the older keyset page
    page.select_option("select[name=month]", last_month.strftime("%Y-%m"))
    expect(page.locator("#statement")).to_contain_text("3 rows")
    assert page.evaluate("window.notReloaded") is True  # HTMX swapped rows; the page never reloaded
    assert f"month={last_month.strftime('%Y-%m')}" in page.url  # and the URL keeps the filter
    assert "month=" in page.get_attribute("#csv-export", "href")
    page.screenshot(path="test-artifacts/vendor-statement.png", full_page=True)
    assert page.console_errors == []


def test_admin_grants_a_promotion_and_closes_a_month(app, live_server, committed, page_factory):
    from portal.tiers.jobs import close_month_job

    admin = make_admin()
    secret = second_factor.enroll(admin)
    make_vendor(shop_name="Promoted Pantry", vendor_type="grocery")
    committed.commit()

    page = page_factory(LAPTOP)
    sign_in(page, live_server, admin.email)
    page.wait_for_url(f"{live_server}/admin/")
    # Money actions follow: prove the second factor first, as an admin does.
    page.goto(f"{live_server}/admin/second-factor/verify?next=/admin/")
    page.fill("input[name=code]", second_factor.code_for(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/vendors/")
    page.fill("input[name=q]", "pantry")
    expect(page.locator("#vendor-rows")).to_contain_text("1 shop ·")
    page.click("text=Promoted Pantry")

    page.select_option("select[name=tier]", "gold")
    page.select_option("select[name=reason]", "partnership")
    page.fill("input[name=expires_on]", (datetime.now(UTC).date() + timedelta(days=20)).isoformat())
    page.click("text=Grant promotion")
    expect(page.locator("#promotion")).to_contain_text("promotion granted")
    assert "Gold" in page.inner_text("#promotion")
    page.screenshot(path="test-artifacts/admin-vendor-detail.png", full_page=True)

    page.goto(f"{live_server}/admin/month-close")
    page.click("text=Close month")
    page.wait_for_selector("#close-progress[data-status=queued]")
    # Stand in for the worker: run the queued job; the page's polling shows the result.
    previous = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    with app.app_context():
        close_month_job(previous.year, previous.month)
    page.wait_for_selector("#close-progress[data-status=done]", timeout=10_000)
    assert "Tier upgrades" in page.inner_text("#close-progress")
    expect(page.locator("#close-history")).to_contain_text("done")
    page.screenshot(path="test-artifacts/admin-month-close.png", full_page=True)
    assert page.console_errors == []
