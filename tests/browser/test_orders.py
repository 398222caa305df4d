"""The shop's orders in Chromium: filters that live in the URL (Back, reload and a shared link show
the same list as the boxes), and the cancel panel that keeps its error, confirms, toasts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.customers.services import customer_for_user
from portal.orders import handling
from portal.orders import services as orders
from portal.orders.models import Order
from portal.vendors.services import vendor_for_user
from tests.browser.conftest import LAPTOP, PHONE
from tests.browser.test_money_pages import sign_in
from tests.factories import make_customer, make_vendor

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_shop(live_server, committed):
    """Three orders to accept (Bea's), two accepted (Carl's), each a minute apart."""
    owner = make_vendor(shop_name="Chromium Cellars")
    vendor = vendor_for_user(owner)
    bea = customer_for_user(make_customer(full_name="Bea Buyer"))
    carl = customer_for_user(make_customer(full_name="Carl Client"))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    placed = []
    for n, customer in enumerate((bea, bea, bea, carl, carl)):
        order = orders.place_order(
            vendor_id=vendor.id,
            customer_id=customer.id,
            items=[orders.LineItem(title=f"Wine {n}", quantity=1, unit_price=Decimal("20.00"))],
            placed_at=start + timedelta(minutes=n),
        )
        orders.mark_paid(order, start + timedelta(minutes=n))
        if customer is carl:
            handling.accept_order(order)
        placed.append(order)
    committed.commit()
    return owner, [(order.id, order.label) for order in placed]


def problems(page, expected_status: int | None = None) -> list[str]:
    """The console's errors, but htmx's report of a request it dropped for a newer one of the
    same form (``hx-sync="replace"``: the search box and the filters share one request), and the
    browser's note of an ``expected_status`` answer (the 422 of a form sent back)."""
    known = ["htmx:sendAbort", "htmx:afterRequest"]
    if expected_status:
        known.append(
            f"Failed to load resource: the server responded with a status of {expected_status}"
        )
    return [text for text in page.console_errors if not text.startswith(tuple(known))]


def orders_page(page_factory, base: str, owner, device=LAPTOP):
    """A signed-in owner's browser tab on the orders list."""
    page = page_factory(device)
    sign_in(page, base, owner.email)
    page.wait_for_url(f"{base}/vendor/")
    page.goto(f"{base}/vendor/orders/")
    return page


def rows(page):
    return page.locator("#orders tbody tr.order-row")


def test_filters_live_in_the_url_through_back_and_reload(live_server, busy_shop, page_factory):
    owner, placed = busy_shop
    page = orders_page(page_factory, live_server, owner, LAPTOP)
    expect(rows(page)).to_have_count(5)

    status = page.locator("#order-filters select[name=status]")
    search = page.locator("#order-filters input[name=q]")

    def agree(status_value: str, search_value: str, count: int):
        """The boxes, the URL and the list say the same thing."""
        expect(status).to_have_value(status_value)
        expect(search).to_have_value(search_value)
        expect(rows(page)).to_have_count(count)
        assert f"status={status_value}" in page.url

    status.select_option("to_accept")
    expect(page).to_have_url(re.compile(r"status=to_accept"))
    agree("to_accept", "", 3)
    status.select_option("accepted")
    expect(page).to_have_url(re.compile(r"status=accepted"))
    agree("accepted", "", 2)

    # Back within the page (htmx's history): the previous filter, in the box and the list.
    page.go_back()
    expect(page).to_have_url(re.compile(r"status=to_accept"))
    agree("to_accept", "", 3)

    # Search by name, then leave for an order and come back.
    search.press_sequentially("bea")
    expect(page).to_have_url(re.compile(r"q=bea"))
    agree("to_accept", "bea", 3)
    rows(page).first.locator("a.order-number").click()
    page.wait_for_url(re.compile(r"/vendor/orders/[0-9a-f-]{36}$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=bea"))
    agree("to_accept", "bea", 3)

    # Reload, and the same address in a new tab (a shared link): the same boxes and list.
    page.reload()
    agree("to_accept", "bea", 3)
    shared = page.context.new_page()
    shared.goto(page.url)
    expect(shared.locator("#order-filters select[name=status]")).to_have_value("to_accept")
    expect(shared.locator("#order-filters input[name=q]")).to_have_value("bea")
    expect(shared.locator("#orders tbody tr.order-row")).to_have_count(3)

    # By number, with or without "#".
    number = placed[3][1]
    search.fill("")
    status.select_option("")
    search.fill(number)
    search.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(number)
    assert problems(page) == []


def test_a_reversed_date_range_says_so_on_an_update_as_on_a_full_load(
    live_server, busy_shop, page_factory
):
    owner, _ = busy_shop
    page = orders_page(page_factory, live_server, owner, LAPTOP)
    page.evaluate("window.notReloaded = true")
    page.fill("input[name=date_from]", "2026-05-10")
    page.fill("input[name=date_to]", "2026-05-01")
    message = page.locator("#order-filter-errors")
    expect(message).to_contain_text("The end date is before the start date.")
    assert page.evaluate("window.notReloaded") is True  # an HTMX update said it
    updated = message.inner_text()
    page.reload()
    expect(message).to_have_text(updated)  # and a full load says the same


@pytest.mark.parametrize("device", [LAPTOP, PHONE], ids=["1280", "390"])
def test_the_cancel_panel_keeps_its_error_then_confirms_and_toasts(
    live_server, busy_shop, page_factory, device
):
    owner, placed = busy_shop
    order_id, label = placed[0]
    page = orders_page(page_factory, live_server, owner, device)
    row = page.locator(f"#order-row-{order_id}")

    row.locator(".row-menu > summary").click()
    row.locator(".cancel-order > summary").click()
    panel = row.locator(".cancel-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(f"Cancel order {label}?")  # it asks first
    panel.locator("select[name=reason]").select_option("other")
    panel.locator("button[type=submit]").click()

    # Refused: the panel is still open, the error beside the note, the note focused.
    expect(row.locator(".cancel-order[open] .field-error")).to_have_text(
        "Say why the order is canceled."
    )
    expect(row.locator("textarea[name=note]")).to_be_focused()
    expect(row.locator("select[name=reason]")).to_have_value("other")
    expect(row).to_contain_text("To accept")

    row.locator("textarea[name=note]").fill("The vintage is sold out")
    row.locator(".cancel-panel button[type=submit]").click()
    expect(page.locator("#toasts")).to_contain_text(f"Order {label} canceled")
    expect(row).to_contain_text("Canceled")
    expect(row.locator(".cancel-order")).to_have_count(0)
    page.screenshot(path=f"test-artifacts/vendor-orders-{device['viewport']['width']}.png")
    assert problems(page, expected_status=422) == []


def test_a_step_shows_it_is_busy_then_toasts(live_server, busy_shop, page_factory):
    owner, placed = busy_shop
    order_id, label = placed[1]
    page = orders_page(page_factory, live_server, owner, LAPTOP)
    page.evaluate(
        """() => {
          window.busySeen = false;
          new MutationObserver((changes) => changes.forEach((change) => {
            if (change.target.getAttribute("aria-busy") === "true") window.busySeen = true;
          })).observe(document.body, {subtree: true, attributes: true,
                                       attributeFilter: ["aria-busy"]});
        }"""
    )
    row = page.locator(f"#order-row-{order_id}")
    row.get_by_role("button", name=f"Accept: order {label}").click()
    expect(page.locator("#toasts")).to_contain_text(f"Order {label} accepted.")
    expect(row).to_contain_text("Accepted")
    assert page.evaluate("window.busySeen") is True


def test_the_phone_menu_still_opens_after_back_restores_the_list(
    live_server, busy_shop, page_factory
):
    """Back to a filtered list brings the page anew from the server (no htmx snapshot): its menu
    button, drawn again, still opens the sidebar."""
    owner, _ = busy_shop
    page = orders_page(page_factory, live_server, owner, PHONE)
    page.locator("#order-filters select[name=status]").select_option("to_accept")
    expect(page).to_have_url(re.compile(r"status=to_accept"))
    page.locator("#order-filters select[name=status]").select_option("accepted")
    expect(page).to_have_url(re.compile(r"status=accepted"))
    page.go_back()
    expect(page.locator("#order-filters select[name=status]")).to_have_value("to_accept")
    page.click("[data-menu-toggle]")
    expect(page.locator("[data-menu-toggle]")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#sidebar")).to_be_visible()


def test_ready_with_doordash_from_the_row_menu(live_server, busy_shop, page_factory, committed):
    """The shop hands a ready order to DoorDash from the row's menu: a toast says so and the row
    shows it ready."""
    owner, placed = busy_shop
    order_id, label = placed[3]  # accepted: its next step is "ready"
    page = orders_page(page_factory, live_server, owner)
    row = page.locator(f"#order-row-{order_id}")
    row.locator(".row-menu > summary").click()
    row.get_by_role("button", name=f"Ready for pickup, DoorDash delivers: order {label}").click()
    expect(page.locator("#toasts")).to_contain_text(
        f"Order {label} is ready for pickup; DoorDash delivers it."
    )
    expect(page.locator(f"#order-row-{order_id}")).to_contain_text("Ready for pickup")
    committed.expire_all()
    ready_at = committed.scalar(sa.select(Order.ready_at).where(Order.id == order_id))
    assert ready_at is not None
    assert problems(page) == []
