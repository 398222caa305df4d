"""The catalog on a phone, in Chromium: type a search, filter, page, go back; axe finds nothing."""

import re

import pytest
from playwright.sync_api import expect

from portal.catalog.services import get_or_create_brand, get_or_create_category
from tests.browser.conftest import PHONE
from tests.browser.walk import axe_violations
from tests.storefront.helpers import Catalog

pytestmark = pytest.mark.browser


def test_search_filter_and_page_the_catalog_on_a_phone(app, live_server, committed, page_factory):
    catalog = Catalog()
    headphones, speakers = get_or_create_category("Headphones"), get_or_create_category("Speakers")
    korvane = get_or_create_brand("Korvane")
    for n in range(5):
        catalog.master(
            f"Korvane KV-10{n} Wireless Headphones",
            f"{20 + n}.00",
            f"{25 + n}.00",
            brand=korvane,
            category=headphones,
        )
    catalog.master("Korvane Wireless Speaker", "40.00", brand=korvane, category=speakers)
    catalog.master("Desk lamp with a long name that must wrap on a phone", "15.00")
    committed.commit()
    app.config["STOREFRONT_PER_PAGE"] = 2
    try:
        page = page_factory(PHONE)
        page.goto(f"{live_server}/catalog/")
        items = page.locator(".catalog-item h3")
        expect(items).to_have_count(2)
        assert axe_violations(page) == []

        # Typing searches as you type (debounced) and keeps the words in the URL.
        page.locator("input[name=q]").press_sequentially("wireless", delay=30)
        expect(page).to_have_url(re.compile(r"q=wireless"))
        expect(page.locator("#catalog-count")).to_contain_text("6 products")

        # The category filter narrows it; its counts followed the words.
        category = page.locator("select[name=category]")
        expect(category.locator("option", has_text="Headphones (5)")).to_have_count(1)
        category.select_option(label="Headphones (5)")
        expect(page).to_have_url(re.compile(r"category="))
        expect(page.locator("#catalog-count")).to_contain_text("5 products · page 1 of 3")

        # The filter's swap must have settled: a click on the pager it replaces would be lost.
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        page.get_by_role("button", name="Next →").click()
        expect(page).to_have_url(re.compile(r"page=2"))
        expect(page.locator("#catalog-count")).to_contain_text("page 2 of 3")
        second_page = items.all_inner_texts()
        assert len(second_page) == 2 and all("Headphones" in name for name in second_page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe_violations(page) == []
        page.screenshot(path="test-artifacts/catalog-phone.png", full_page=True)

        # Back shows page 1 of the same search, boxes and list together.
        page.go_back()
        expect(page.locator("#catalog-count")).to_contain_text("page 1 of 3")
        expect(page.locator("input[name=q]")).to_have_value("wireless")

        # Nothing found: a clear page, with the way back to everything.
        page.goto(f"{live_server}/catalog/?q=zzqxw&page=999999")
        expect(page.get_by_text("No products match “zzqxw”")).to_be_visible()
        assert axe_violations(page) == []
        assert page.console_errors == []
    finally:
        app.config["STOREFRONT_PER_PAGE"] = 24
