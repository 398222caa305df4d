"""A guest on a phone fills a cart from a shop's page without a reload, then changes it."""

import re
from decimal import Decimal

import pytest

from portal.catalog.services import create_product
from tests.browser.conftest import PHONE
from tests.browser.walk import axe_violations
from tests.orders.helpers import established_shop

pytestmark = pytest.mark.browser


def test_a_guest_adds_from_the_shop_page_and_changes_the_cart_on_a_phone(
    live_server, committed, page_factory
):
    shop = established_shop()
    shop.name = "Hawthorne Bakery"
    create_product(shop, title="Country loaf", sku="L", price=Decimal("6.50"), inventory=2)
    create_product(shop, title="Seeded rye", sku="R", price=Decimal("5.00"), inventory=9)
    slug = shop.slug
    committed.commit()

    page = page_factory(PHONE)
    page.goto(f"{live_server}/shops/{slug}")
    page.get_by_label("Quantity").first.fill("2")
    page.get_by_role("button", name=re.compile("Add to cart +Country loaf")).click()
    page.get_by_text("Added to your cart.").wait_for()
    page.get_by_role("button", name=re.compile("Add to cart +Country loaf")).click()
    page.get_by_text("Only 2 of “Country loaf” left").wait_for()
    page.get_by_role("button", name=re.compile("Add to cart +Seeded rye")).click()
    page.locator(".add-to-cart-status").nth(1).get_by_text("Added to your cart.").wait_for()
    # The page stayed where it was; the bar's count followed.
    assert page.url == f"{live_server}/shops/{slug}"
    page.locator(".guest-bar .nav-count", has_text="3").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []

    page.get_by_role("link", name="View cart").last.click()
    page.get_by_text("Total $18.00").wait_for()
    page.get_by_label("Quantity of Seeded rye").fill("3")
    page.locator("#cart form.quantity-form").nth(1).get_by_role("button", name="Update").click()
    page.get_by_text("Total $28.00").wait_for()
    page.get_by_role("button", name="Remove Country loaf").click()
    page.get_by_text("Total $15.00").wait_for()
    assert "Country loaf" not in page.inner_text("#cart")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    page.screenshot(path="test-artifacts/cart-phone.png", full_page=True)
