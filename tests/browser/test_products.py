"""The vendor's products in Chromium: an inline price edit, then a bad and a good CSV import."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.catalog.models import Product, ProductImport
from portal.catalog.services import create_product
from portal.extensions import db
from portal.vendors.services import vendor_for_user
from tests.browser.conftest import LAPTOP
from tests.browser.test_money_pages import sign_in
from tests.factories import make_vendor

pytestmark = pytest.mark.browser

HEADER = "sku,title,description,gtin,brand,category,price,inventory,status,attributes"


def test_inline_price_edit_and_csv_import(app, live_server, committed, page_factory, tmp_path):
    owner = make_vendor(shop_name="Chromium Cheese")
    vendor = vendor_for_user(owner)
    tea = create_product(
        vendor, title="Gouda 500 g", sku="G-500", price=Decimal("6.50"), inventory=4
    )
    committed.commit()
    tea_id = tea.id

    page = page_factory(LAPTOP)
    sign_in(page, live_server, owner.email)
    page.wait_for_url(f"{live_server}/vendor/")
    page.click("nav >> text=Products")
    page.wait_for_url(f"{live_server}/vendor/products/")
    page.evaluate("window.notReloaded = true")

    cell = page.locator(f"#price-{tea_id}")
    cell.locator("button").click()
    field = cell.locator("input[name=value]")
    expect(field).to_be_focused()
    field.fill("-3")
    field.press("Enter")
    expect(cell.locator(".field-error")).to_contain_text("cannot be negative")
    expect(cell.locator("input[name=value]")).to_have_value("-3")  # what was typed is kept
    cell.locator("input[name=value]").fill("7.255")
    cell.locator("input[name=value]").press("Enter")
    expect(cell).to_contain_text("$7.26")
    expect(cell).to_contain_text("Saved")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path="test-artifacts/vendor-products.png", full_page=True)

    # Search narrows the list and keeps the state in the URL.
    page.locator("input[name=q]").press_sequentially("gouda")
    expect(page).to_have_url(re.compile(r"q=gouda"))
    expect(page.locator("#product-count")).to_contain_text("1 product ·")

    # A CSV with a bad row: the line and the reason, nothing imported.
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nB1,Brie,,,,,4.20,3,,\nB2,Feta,,4006381333932,,,3,2,,\n")
    page.goto(f"{live_server}/vendor/products/import")
    page.set_input_files("input[name=file]", str(bad))
    page.click("text=Check and import")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("Nothing was imported")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr")).to_contain_text("3")
    expect(errors).to_contain_text("check digit")
    page.screenshot(path="test-artifacts/vendor-products-import-errors.png", full_page=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductImport)) == 0

    # A good one: queued, then (no worker runs here) the job is run in this process.
    good = tmp_path / "good.csv"
    good.write_text(
        f"{HEADER}\nB1,Brie,,,Fromagerie,Cheese,4.20,3,,\nG-500,Gouda 500 g,,,,,8,4,,\n"
    )
    page.set_input_files("input[name=file]", str(good))
    page.click("text=Check and import")
    expect(page.locator("#import-progress")).to_be_visible()
    from portal.catalog.jobs import run_product_import

    with app.app_context():
        import_id = db.session.scalar(sa.select(ProductImport.id))
        run_product_import(str(import_id))
        db.session.remove()
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "done")
    expect(progress).to_contain_text("1 created, 1 updated")
    page.screenshot(path="test-artifacts/vendor-products-import-done.png", full_page=True)
    with app.app_context():
        prices = dict(db.session.execute(sa.select(Product.sku, Product.price)).all())
        db.session.remove()
    assert prices == {"B1": Decimal("4.20"), "G-500": Decimal("8.00")}
    # The two 422s (bad price, bad CSV) are logged by the browser; nothing else went wrong.
    assert [e for e in page.console_errors if "422" not in e] == []


def test_filters_live_in_the_url_through_back_and_reload(app, live_server, committed, page_factory):
    owner = make_vendor(shop_name="Chromium Filters")
    vendor = vendor_for_user(owner)
    for title, inventory in (("Brie", 3), ("Camembert", 0), ("Comté", 5)):
        create_product(vendor, title=title, price=Decimal("9.00"), inventory=inventory)
    committed.commit()

    page = page_factory(LAPTOP)
    sign_in(page, live_server, owner.email)
    page.wait_for_url(f"{live_server}/vendor/")
    page.goto(f"{live_server}/vendor/products/")
    rows = page.locator("#products tbody tr.product-row")
    in_stock = page.locator("#product-filters input[name=in_stock]")
    search = page.locator("#product-filters input[name=q]")
    expect(rows).to_have_count(3)

    in_stock.check()
    expect(page).to_have_url(re.compile(r"in_stock=1"))
    expect(rows).to_have_count(2)
    search.press_sequentially("com")
    expect(page).to_have_url(re.compile(r"q=com"))
    expect(rows).to_have_count(1)

    # Back: the previous filters, in the boxes and the list alike.
    page.go_back()
    expect(page).to_have_url(re.compile(r"in_stock=1(?!.*q=com)"))
    expect(search).to_have_value("")
    expect(in_stock).to_be_checked()
    expect(rows).to_have_count(2)

    # Leave for a product and come back; then reload: still the same.
    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/vendor/products/[0-9a-f-]{36}"))
    page.go_back()
    expect(in_stock).to_be_checked()
    expect(rows).to_have_count(2)
    page.reload()
    expect(in_stock).to_be_checked()
    expect(rows).to_have_count(2)
