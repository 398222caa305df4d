"""The catalog's pages in Chromium: the public master product page on a phone (390x844), a vendor
requesting a remap from the catalog page on a phone, and an admin resolving it by searching
masters as they type; each passes axe-core and fits the screen, and the forms never reload."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.catalog import mapping, remaps
from portal.catalog.models import RemapRequest
from portal.extensions import db
from tests.browser import walk
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.catalog.helpers import product, shop
from tests.factories import make_admin

pytestmark = pytest.mark.browser


def offered_master():
    """A master offered by two shops at different prices, and a third shop's lookalike master."""
    owner, first = shop(shop_name="Fernwood Grocers and Provisions")
    _, second = shop(shop_name="Bay Market")
    mine = product(
        first,
        title="Rummo Penne Rigate No. 66, bronze-drawn durum wheat pasta, 500 g",
        sku="RUM-66",
        price=Decimal("3.90"),
        inventory=12,
        attributes={"weight": "500 g", "shape": "penne rigate", "origin": "Benevento, Italy"},
    )
    master = mapping.create_master_from_product(mine)
    mapping.map_product(mine, master, method="new_master")
    theirs = product(second, title="Rummo penne rigate 500g", sku="R66", price=Decimal("3.45"))
    mapping.map_product(theirs, master, method="model", confidence=0.97)
    lookalike = product(second, title="Rummo rigatoni No. 50, 500 g", sku="R50")
    other = mapping.create_master_from_product(lookalike)
    mapping.map_product(lookalike, other, method="new_master")
    return owner, first, mine, master, other


def test_the_master_page_on_a_phone(live_server, committed, page_factory):
    _, _, _, master, _ = offered_master()
    committed.commit()

    page = page_factory(PHONE)
    page.goto(f"{live_server}/products/{master.slug}")
    assert page.inner_text("h1").startswith("Rummo Penne Rigate No. 66")
    offers = page.locator(".master-offers .offer-shop")
    expect(offers).to_have_text(["Bay Market", "Fernwood Grocers and Provisions"])
    assert "from 2 shops" in page.inner_text("#price-range")
    canonical = page.get_attribute("link[rel=canonical]", "href")
    assert canonical == f"{live_server}/products/{master.slug}"
    assert walk.overflow(page, "390") <= 0
    assert walk.axe_violations(page) == []
    page.screenshot(path="test-artifacts/master-page-phone.png", full_page=True)
    offers.first.click()
    page.wait_for_url(f"{live_server}/shops/**")
    assert page.inner_text("h1") == "Bay Market"
    assert page.console_errors == []


def test_a_vendor_requests_a_remap_on_a_phone_and_an_admin_resolves_it(
    live_server, committed, page_factory
):
    owner, _, mine, _, other = offered_master()
    admin = make_admin()
    committed.commit()
    row = f"#catalog-{mine.id}"

    phone = page_factory(PHONE)
    sign_in(phone, live_server, owner.email, lands_on="/vendor/")
    phone.goto(f"{live_server}/vendor/products/catalog/")
    assert "Own master" in phone.inner_text(row)
    assert walk.overflow(phone, "390") <= 0
    assert walk.axe_violations(phone) == []
    phone.evaluate("window.notReloaded = true")
    phone.click(f"{row} details.remap > summary")
    phone.click(f"{row} button[type=submit]")  # an empty note: the browser asks for it
    phone.fill(f"{row} textarea[name=note]", "short")
    phone.evaluate(f"document.querySelector('{row} textarea').removeAttribute('required')")
    phone.click(f"{row} button[type=submit]")
    expect(phone.locator(f"{row} .field-error")).to_contain_text("at least 10 characters")
    expect(phone.locator(f"{row} textarea[name=note]")).to_be_focused()
    assert walk.axe_violations(phone) == []
    phone.fill(f"{row} textarea[name=note]", "This is penne, but it belongs with the 1 kg pack.")
    phone.click(f"{row} button[type=submit]")
    expect(phone.locator(row)).to_contain_text("Remap requested")
    expect(phone.locator("#toasts")).to_contain_text("requested")
    assert phone.evaluate("window.notReloaded") is True
    assert walk.overflow(phone, "390") <= 0
    phone.screenshot(path="test-artifacts/vendor-catalog-phone.png", full_page=True)
    # The short note's 422 is logged by the browser; nothing else went wrong.
    assert [e for e in phone.console_errors if "422" not in e] == []

    laptop = page_factory(LAPTOP)
    sign_in(laptop, live_server, admin.email, lands_on="/admin/")
    laptop.goto(f"{live_server}/admin/catalog/remap-requests/")
    db.session.rollback()
    request = db.session.query(RemapRequest).one()
    card = f"#remap-{request.id}"
    assert "belongs with the 1 kg pack" in laptop.inner_text(card)
    laptop.click(f"{card} details:first-of-type > summary")
    laptop.fill(f"{card} input[name=q]", "rigatoni")
    choice = laptop.locator(f"{card} input[name=master][value='{other.id}']")
    expect(choice).to_be_visible()
    assert walk.axe_violations(laptop) == []
    laptop.screenshot(path="test-artifacts/admin-remap-requests.png", full_page=True)
    choice.check()
    laptop.click(f"{card} details:first-of-type button[type=submit]")
    expect(laptop.locator(card)).to_have_count(0)
    expect(laptop.locator("#toasts")).to_contain_text("remapped")
    assert laptop.console_errors == []

    db.session.rollback()
    assert mapping.mapping_of(mine.id).master_product_id == other.id
    phone.goto(f"{live_server}/vendor/products/catalog/requests")
    assert "Remapped" in phone.inner_text("#remap-requests")
    assert walk.overflow(phone, "390") <= 0
    assert walk.axe_violations(phone) == []
    assert remaps.open_requests().total_rows == 0
