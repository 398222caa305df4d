"""The customer's points page on a phone (390x844), in Chromium: the figures, no page wider than
the screen, axe-core finding nothing serious, and "load more" bringing the older rows in place."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.clock import utcnow
from portal.customers.services import customer_for_user
from portal.loyalty import points
from tests import second_factor
from tests.browser import walk
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.factories import make_admin, make_customer
from tests.loyalty.helpers import pay, place, shop

pytestmark = pytest.mark.browser


def test_the_points_page_on_a_phone_loads_more_history_in_place(
    live_server, committed, page_factory
):
    me = make_customer(full_name="Phoebe Phone")
    buyer = customer_for_user(me)
    giver = make_admin()
    now = utcnow()
    points.adjust(buyer.id, 300, "Expiring goodwill", actor=giver, at=now - timedelta(days=360))
    for n in range(44):
        points.adjust(
            buyer.id, n + 1, f"Adjustment number {n}", actor=giver, at=now - timedelta(hours=n + 1)
        )
    pay(place(shop(), buyer, price="18.00", at=now - timedelta(hours=1)))
    committed.commit()

    page = page_factory(PHONE)
    sign_in(page, live_server, me.email, lands_on="/account/")
    page.click(".tabbar >> text=Points")
    page.wait_for_url(f"{live_server}/account/points/")
    assert "1,290 points" in page.inner_text("#points-balance")  # 300 + 1 + ... + 44
    assert "$12.90" in page.inner_text("#points-balance")
    assert "1,000 more points earned reaches Silver" in page.inner_text("#points-tier")
    assert "18 points" in page.inner_text("#points-pending")
    assert "300 points" in page.inner_text("#points-expiring")
    rows = page.locator("#points-history-table tbody tr[id^=points-row-]")
    expect(rows).to_have_count(20)
    assert walk.overflow(page, "390") <= 0
    assert walk.axe_violations(page) == []
    page.screenshot(path="test-artifacts/points-phone.png", full_page=True)

    page.evaluate("window.notReloaded = true")
    page.click("#history-more a")
    expect(rows).to_have_count(40)
    # The first new row has the focus, so the keyboard goes on from where the button was.
    expect(rows.nth(20)).to_be_focused()
    page.click("#history-more a")
    expect(rows).to_have_count(45)
    expect(page.locator("#history-more")).to_have_count(0)  # the oldest row came: no more button
    assert page.evaluate("window.notReloaded") is True  # HTMX added rows; the page never reloaded
    ids = [rows.nth(i).get_attribute("id") for i in range(45)]
    assert len(set(ids)) == 45
    assert "Expiring goodwill" in rows.nth(44).inner_text()  # the oldest, last
    assert walk.overflow(page, "390") <= 0
    assert walk.axe_violations(page) == []
    assert page.console_errors == []


def test_an_admin_finds_a_customer_as_they_type_and_pages_their_ledger(
    live_server, committed, page_factory
):
    admin = make_admin()
    secret = second_factor.enroll(admin)  # adjusting points is a money action
    found = customer_for_user(make_customer(full_name="Quentin Query"))
    customer_for_user(make_customer(full_name="Rita Other"))
    for n in range(25):
        points.adjust(found.id, 2, f"Row {n}", actor=admin, at=utcnow() - timedelta(hours=n + 1))
    committed.commit()

    page = page_factory(LAPTOP)
    sign_in(page, live_server, admin.email, lands_on="/admin/")
    page.goto(f"{live_server}/admin/second-factor/verify?next=/admin/")
    page.fill("input[name=code]", second_factor.code_for(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")
    page.click("#sidebar >> text=Points")
    page.wait_for_url(f"{live_server}/admin/points/")
    assert "$0.50" in page.inner_text("#liability-total")
    page.evaluate("window.notReloaded = true")
    page.locator("input[name=q]").press_sequentially("quent")  # typed: keyup
    expect(page.locator("#customer-rows")).to_contain_text("1 customer ·")
    assert "Rita Other" not in page.inner_text("#customer-rows")
    assert "q=quent" in page.url  # the search lives in the URL
    assert page.evaluate("window.notReloaded") is True  # HTMX swapped the list in place
    page.click("#customer-rows >> text=Quentin Query")
    page.wait_for_url(f"{live_server}/admin/points/customers/{found.id}")
    rows = page.locator("#points-history-table tbody tr[id^=points-row-]")
    expect(rows).to_have_count(20)
    page.click("#history-more a")
    expect(rows).to_have_count(25)
    assert walk.axe_violations(page) == []

    # An adjustment: the form answers with a toast, and the figures below fetch themselves again.
    page.fill("#points-adjust-points", "-20")
    page.fill("#points-adjust-reason", "Duplicate credit")
    page.click("#points-adjust button[type=submit]")
    expect(page.locator("#toasts")).to_contain_text("Took away 20 points; the balance is 30.")
    expect(page.locator("#points-balance")).to_contain_text("30 points")
    expect(rows.first).to_contain_text("Duplicate credit")
    expect(rows).to_have_count(20)  # the newest page again
    page.screenshot(path="test-artifacts/points-admin-customer.png", full_page=True)
    assert page.console_errors == []
