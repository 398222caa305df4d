"""CSV upload → check → queued import → job applies it; re-import updates; export round-trip."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog.jobs import run_product_import
from portal.catalog.models import Brand, MasterProduct, Product, ProductImport, VendorProductMapping
from portal.extensions import db
from portal.media import private_path
from tests.catalog.helpers import HEADER, csv_upload, product, shop

GOOD = "\n".join(
    [
        HEADER,
        "A1,Apple juice,Cloudy,4006381333931,Orchard Co,Drinks,3.499,10,active,"
        "size=1 l; organic=yes",
        "A2,Pear juice,,,Orchard Co,Drinks,2.5,0,active,",
        '"A3","Plum jam, ""extra""",,,,Preserves,4,2,archived,',
    ]
)


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Juice Bar")
    auth.login(user.email)
    return client, vendor


def upload(client, text, name="products.csv", **kwargs):
    return client.post(
        "/vendor/products/import",
        data=csv_upload(text, name),
        content_type="multipart/form-data",
        **kwargs,
    )


def count_products(vendor):
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Product).where(Product.vendor_id == vendor.id)
    )


def import_ids(vendor) -> set:
    return set(
        db.session.scalars(sa.select(ProductImport.id).where(ProductImport.vendor_id == vendor.id))
    )


def upload_import(client, vendor, text):
    """Upload ``text`` and return the import it queued (created_at ties inside the test)."""
    before = import_ids(vendor)
    response = upload(client, text)
    assert response.status_code == 200, response.get_data(True)
    (new_id,) = import_ids(vendor) - before
    return db.session.get(ProductImport, new_id)


def test_a_bad_file_imports_nothing_and_lists_every_error(vendor_client):
    client, vendor = vendor_client
    text = GOOD + "\nA4,,,,,,1,1,,\nA5,Bad,,,,,1,-3,,\nA1,Dup,,,,,1,1,,"
    response = upload(client, text, headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = response.get_data(True)
    assert "Nothing was imported" in body and "3 problems" in body
    assert '<td class="num">5</td><td>The title is missing.</td>' in body
    assert '<td class="num">6</td>' in body and "cannot be negative" in body
    assert "already on line 2" in body
    assert count_products(vendor) == 0
    assert import_ids(vendor) == set()


def test_upload_queues_then_job_imports_and_reimport_updates(vendor_client, app):
    client, vendor = vendor_client
    before = import_ids(vendor)
    response = upload(client, "\ufeff" + GOOD)
    assert response.status_code == 200
    (imp_id,) = import_ids(vendor) - before
    imp = db.session.get(ProductImport, imp_id)
    assert (imp.status, imp.total_rows, imp.job_id) == ("queued", 3, f"product-import-{imp.id}")
    assert private_path(imp.file_path).is_file()
    assert count_products(vendor) == 0  # nothing written before the job
    assert f"/vendor/products/import/{imp.id}" in response.get_data(True)  # the bar polls itself

    summary = run_product_import(str(imp.id))
    assert summary == {"status": "done", "rows": 3, "created": 3, "updated": 0}
    db.session.refresh(imp)
    assert (imp.processed_rows, imp.created_count, imp.updated_count) == (3, 3, 0)
    progress = client.get(f"/vendor/products/import/{imp.id}").get_data(True)
    assert "3 created, 0 updated" in progress and "hx-trigger" not in progress

    apple = db.session.scalar(sa.select(Product).where(Product.sku == "A1"))
    assert (
        apple.price == Decimal("3.50") and apple.inventory == 10 and apple.gtin == "4006381333931"
    )
    assert apple.brand.name == "Orchard Co" and apple.category.name == "Drinks"
    assert apple.attributes == {"size": "1 l", "organic": "yes"}
    plum = db.session.scalar(sa.select(Product).where(Product.sku == "A3"))
    assert plum.title == 'Plum jam, "extra"' and plum.status == "archived"

    # Re-running the finished job changes nothing.
    assert run_product_import(str(imp.id))["created"] == 3
    assert count_products(vendor) == 3

    # The same file again: nothing created, nothing changed; then a changed file updates by SKU.
    again = upload_import(client, vendor, GOOD)
    assert again.id != imp.id
    assert run_product_import(str(again.id)) == {
        "status": "done",
        "rows": 3,
        "created": 0,
        "updated": 0,
    }
    changed = GOOD.replace("3.499,10", "3.10,4") + "\nA9,New one,,,,,1,1,,"
    third = upload_import(client, vendor, changed)
    assert run_product_import(str(third.id)) == {
        "status": "done",
        "rows": 4,
        "created": 1,
        "updated": 1,
    }
    assert count_products(vendor) == 4
    db.session.refresh(apple)
    assert (apple.price, apple.inventory) == (Decimal("3.10"), 4)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Brand).where(Brand.name == "Orchard Co")
        )
        == 1
    )


def test_a_column_left_out_is_left_alone(vendor_client):
    client, vendor = vendor_client
    p = product(vendor, title="Tea", sku="T1", inventory=9, description="Green")
    imp = upload_import(client, vendor, "sku,title,price\nT1,Green tea,2\n")
    assert run_product_import(str(imp.id))["updated"] == 1
    db.session.refresh(p)
    assert (p.title, p.price, p.inventory, p.description) == (
        "Green tea",
        Decimal("2.00"),
        9,
        "Green",
    )


def test_the_job_updates_catalog_aggregates(vendor_client):
    client, vendor = vendor_client
    p = product(vendor, title="Apple juice", sku="A1", price=Decimal("9"), inventory=1)
    master = MasterProduct(name="Apple juice", normalized_name="apple juice", slug="apple-juice-x")
    db.session.add(master)
    db.session.flush()
    db.session.add(
        VendorProductMapping(
            master_product_id=master.id,
            vendor_id=vendor.id,
            vendor_product_id=p.id,
            vendor_price=p.price,
        )
    )
    db.session.flush()
    run_product_import(str(upload_import(client, vendor, GOOD).id))
    db.session.refresh(master)
    assert (master.lowest_price, master.total_inventory, master.vendor_count) == (
        Decimal("3.50"),
        10,
        1,
    )


def test_a_vanished_file_fails_the_import_visibly(vendor_client):
    client, vendor = vendor_client
    imp = upload_import(client, vendor, GOOD)
    private_path(imp.file_path).unlink()
    with pytest.raises(FileNotFoundError):
        run_product_import(str(imp.id))
    db.session.refresh(imp)
    assert imp.status == "failed" and imp.error
    assert "The import failed" in client.get(f"/vendor/products/import/{imp.id}").get_data(True)


def test_export_round_trip(vendor_client):
    client, vendor = vendor_client
    run_product_import(str(upload_import(client, vendor, GOOD).id))
    response = client.get("/vendor/products/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    exported = response.get_data(True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["sku"] for r in rows] == ["A1", "A2", "A3"]
    assert rows[0]["attributes"] == "size=1 l; organic=yes" and rows[0]["price"] == "3.50"
    assert rows[2]["title"] == 'Plum jam, "extra"' and rows[2]["status"] == "archived"
    # Importing the export changes nothing.
    imp = upload_import(client, vendor, exported)
    assert run_product_import(str(imp.id))["updated"] == 0
    assert count_products(vendor) == 3


def test_another_vendors_import_is_404(vendor_client):
    client, vendor = vendor_client
    imp = upload_import(client, vendor, GOOD)
    user, _ = shop(shop_name="Nosy")
    client.post("/logout")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert client.get(f"/vendor/products/import/{imp.id}").status_code == 404
