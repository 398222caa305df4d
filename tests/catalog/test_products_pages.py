"""The products list, inline edit, the product form, archive, photos and access control."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.catalog.models import Brand, MasterProduct, Product, ProductImage, VendorProductMapping
from portal.extensions import db
from tests.catalog.helpers import product, shop
from tests.factories import MAKERS
from tests.toasts import toast_of

HX = {"HX-Request": "true"}


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Green Grocer")
    auth.login(user.email)
    return client, vendor


def test_list_search_filters_sort_and_archived_toggle(vendor_client):
    client, vendor = vendor_client
    a = product(vendor, title="Apple juice", sku="AJ-1", price=Decimal("3.00"), inventory=5)
    product(vendor, title="Banana bread", sku="BB-1", price=Decimal("1.00"), inventory=0)
    gone = product(vendor, title="Apple pie", sku="AP-1", price=Decimal("9.00"), inventory=1)
    gone.status = "archived"
    product(vendor, title="Cherry jam", sku="CJ-1", gtin="4006381333931", price=Decimal("5"))
    _, other = shop(shop_name="Other Shop")
    product(other, title="Apple of another shop", sku="X")
    db.session.flush()

    page = client.get("/vendor/products/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="products"' in html and "Apple juice" in html
    assert "Apple pie" not in html and "another shop" not in html
    assert 'hx-trigger="search, keyup changed delay:250ms"' in html

    fragment = client.get("/vendor/products/?q=apple", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and "Apple juice" in fragment and "Banana" not in fragment
    assert "1 product ·" in fragment
    assert "Cherry jam" in client.get("/vendor/products/?q=400638", headers=HX).get_data(True)
    assert "Banana" in client.get("/vendor/products/?q=bb-1", headers=HX).get_data(True)
    in_stock = client.get("/vendor/products/?in_stock=1", headers=HX).get_data(True)
    assert "Banana" not in in_stock and "Apple juice" in in_stock
    archived = client.get("/vendor/products/?q=apple&archived=1", headers=HX).get_data(True)
    assert "Apple pie" in archived
    by_price = client.get("/vendor/products/?sort=-price", headers=HX).get_data(True)
    assert by_price.index("Cherry jam") < by_price.index("Apple juice") < by_price.index("Banana")

    master = MasterProduct(name="Apple juice", normalized_name="apple juice", slug="apple-juice")
    db.session.add(master)
    db.session.flush()
    db.session.add(
        VendorProductMapping(
            master_product_id=master.id,
            vendor_id=vendor.id,
            vendor_product_id=a.id,
            vendor_price=a.price,
        )
    )
    db.session.flush()
    mapped = client.get("/vendor/products/?mapping=mapped", headers=HX).get_data(True)
    assert "Apple juice" in mapped and "Banana" not in mapped
    unmapped = client.get("/vendor/products/?mapping=unmapped", headers=HX).get_data(True)
    assert "Apple juice" not in unmapped and "Banana" in unmapped


def test_pagination(vendor_client):
    client, vendor = vendor_client
    for n in range(30):
        product(vendor, title=f"Item {n:02d}", sku=f"I{n:02d}")
    first = client.get("/vendor/products/?sort=title", headers=HX).get_data(True)
    assert "page 1 of 2" in first and "Item 00" in first and "Item 29" not in first
    assert "page=2" in first and "sort=title" in first
    second = client.get("/vendor/products/?sort=title&page=2", headers=HX).get_data(True)
    assert "Item 29" in second and "Item 00" not in second


def test_inline_edit_price_and_inventory(vendor_client):
    client, vendor = vendor_client
    p = product(vendor, title="Tea", price=Decimal("4.00"), inventory=3)
    editor = client.get(f"/vendor/products/{p.id}/inline/price?edit=1", headers=HX)
    assert 'name="value"' in editor.get_data(True) and 'value="4.00"' in editor.get_data(True)

    saved = client.post(
        f"/vendor/products/{p.id}/inline/price", data={"value": "5.555"}, headers=HX
    )
    assert saved.status_code == 200
    assert "$5.56" in saved.get_data(True) and "Saved" in saved.get_data(True)
    assert "product-updated" in saved.headers["HX-Trigger"]
    assert toast_of(saved) == "Price of “Tea” saved."
    assert (
        toast_of(
            client.post(f"/vendor/products/{p.id}/inline/price", data={"value": "x"}, headers=HX)
        )
        is None
    )
    db.session.refresh(p)
    assert p.price == Decimal("5.56")

    bad = client.post(f"/vendor/products/{p.id}/inline/price", data={"value": "5,5x"}, headers=HX)
    assert bad.status_code == 422
    body = bad.get_data(True)
    assert "is not a price" in body and 'value="5,5x"' in body and 'aria-invalid="true"' in body
    db.session.refresh(p)
    assert p.price == Decimal("5.56")

    ok = client.post(f"/vendor/products/{p.id}/inline/inventory", data={"value": "12"}, headers=HX)
    assert ok.status_code == 200 and ">12<" in ok.get_data(True)
    for value, message in [("-1", "cannot be negative"), ("2.5", "whole number"), ("", "Enter")]:
        bad = client.post(
            f"/vendor/products/{p.id}/inline/inventory", data={"value": value}, headers=HX
        )
        assert bad.status_code == 422 and message in bad.get_data(True)
    db.session.refresh(p)
    assert p.inventory == 12
    assert (
        client.post(f"/vendor/products/{p.id}/inline/title", data={"value": "x"}).status_code == 404
    )


def test_create_edit_with_new_brand_category_and_attributes(vendor_client):
    client, vendor = vendor_client
    assert client.get("/vendor/products/new").status_code == 200
    response = client.post(
        "/vendor/products/new",
        data={
            "title": "Espresso beans",
            "sku": "ESP-1",
            "gtin": "4006381333931",
            "brand": "Roastery Nine",
            "category": "Coffee",
            "price": "12.345",
            "inventory": "7",
            "description": "Dark roast",
            "attributes": "weight: 1 kg\norigin: Brazil",
        },
    )
    assert response.status_code == 302
    p = db.session.scalar(sa.select(Product).where(Product.sku == "ESP-1"))
    assert p.vendor_id == vendor.id and p.price == Decimal("12.35") and p.inventory == 7
    assert p.brand.name == "Roastery Nine" and p.category.name == "Coffee"
    assert p.attributes == {"weight": "1 kg", "origin": "Brazil"}

    page = client.get(f"/vendor/products/{p.id}/edit").get_data(True)
    assert "weight: 1 kg" in page and 'value="Roastery Nine"' in page

    response = client.post(
        f"/vendor/products/{p.id}/edit",
        data={
            "title": "Espresso beans 1 kg",
            "sku": "ESP-1",
            "brand": "Roastery Nine",
            "price": "11",
            "inventory": "0",
            "attributes": "",
        },
    )
    assert response.status_code == 302
    db.session.refresh(p)
    assert (p.title, p.price, p.inventory, p.category_id, p.attributes) == (
        "Espresso beans 1 kg",
        Decimal("11.00"),
        0,
        None,
        None,
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Brand).where(Brand.name == "Roastery Nine")
        )
        == 1
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Enter a title."),
        ("gtin", "4006381333932", "check digit"),
        ("gtin", "12345", "8, 12, 13 or 14 digits"),
        ("price", "-2", "cannot be negative"),
        ("price", "abc", "is not a price"),
        ("inventory", "-1", "cannot be negative"),
        ("inventory", "1.5", "whole number"),
        ("attributes", "no colon here", "key: value"),
    ],
)
def test_form_validation(vendor_client, field, value, message):
    client, _ = vendor_client
    data = {"title": "Tea", "price": "1", "inventory": "1"} | {field: value}
    response = client.post("/vendor/products/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0


def test_sku_clash_has_a_clear_message(vendor_client):
    client, vendor = vendor_client
    product(vendor, title="First", sku="DUP")
    response = client.post(
        "/vendor/products/new",
        data={"title": "Second", "sku": "DUP", "price": "1", "inventory": "0"},
    )
    assert response.status_code == 422
    assert "already have a product with SKU &#39;DUP&#39;" in response.get_data(True)
    check = client.post("/vendor/products/validate/sku", data={"sku": "DUP"})
    assert "already have a product" in check.get_data(True)
    assert client.post("/vendor/products/validate/sku", data={"sku": "NEW"}).get_data(True) == ""
    assert "check digit" in client.post(
        "/vendor/products/validate/gtin", data={"gtin": "4006381333932"}
    ).get_data(True)
    # Another shop may use the same SKU.
    _, other = shop(shop_name="Elsewhere")
    product(other, title="Theirs", sku="DUP")


def test_archive_and_restore(vendor_client):
    client, vendor = vendor_client
    p = product(vendor, title="Seasonal")
    row = client.post(f"/vendor/products/{p.id}/archive", headers=HX)
    assert row.status_code == 200 and "Restore" in row.get_data(True)
    assert toast_of(row) == "“Seasonal” is archived: customers no longer see it."
    db.session.refresh(p)
    assert p.status == "archived"
    assert "Seasonal" not in client.get("/vendor/products/").get_data(True)
    assert client.post(f"/vendor/products/{p.id}/unarchive").status_code == 302
    db.session.refresh(p)
    assert p.status == "active"


def _png(size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_photos_upload_and_remove(vendor_client, app):
    client, vendor = vendor_client
    p = product(vendor, title="Photogenic")
    response = client.post(
        f"/vendor/products/{p.id}/images",
        data={"image": (_png(), "p.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    image = db.session.scalar(sa.select(ProductImage).where(ProductImage.product_id == p.id))
    assert image.path.startswith("products/") and image.path.endswith(".webp")
    assert image.path in client.get(f"/vendor/products/{p.id}/edit").get_data(True)
    bad = client.post(
        f"/vendor/products/{p.id}/images",
        data={"image": (io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "not an image we can read" in bad.get_data(True)
    assert client.post(f"/vendor/products/{p.id}/images/{image.id}/delete").status_code == 302
    assert db.session.get(ProductImage, image.id) is None


def test_another_shops_products_are_404(vendor_client):
    client, _ = vendor_client
    _, other = shop(shop_name="Not yours")
    theirs = product(other, title="Theirs", sku="T1", price=Decimal("3"))
    pid = theirs.id
    assert client.get(f"/vendor/products/{pid}/edit").status_code == 404
    assert (
        client.post(
            f"/vendor/products/{pid}/edit", data={"title": "Mine", "price": "1", "inventory": "1"}
        ).status_code
        == 404
    )
    assert client.get(f"/vendor/products/{pid}/inline/price?edit=1").status_code == 404
    assert (
        client.post(f"/vendor/products/{pid}/inline/price", data={"value": "0"}).status_code == 404
    )
    assert client.post(f"/vendor/products/{pid}/archive").status_code == 404
    assert client.post(f"/vendor/products/{pid}/images", data={}).status_code == 404
    db.session.refresh(theirs)
    assert (theirs.title, theirs.price, theirs.status) == ("Theirs", Decimal("3.00"), "active")


@pytest.mark.parametrize("role", ["customer", "driver", "admin"])
def test_other_roles_are_refused(client, auth, db_session, role):
    user = MAKERS[role]()
    auth.login(user.email)
    for path in ["/vendor/products/", "/vendor/products/import", "/vendor/products/export.csv"]:
        assert client.get(path).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, db_session):
    response = client.get("/vendor/products/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
