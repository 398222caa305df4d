"""Brands by normalised name, unique-constraint races, and decompression-bomb uploads."""

from __future__ import annotations

import io
import threading
import time

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal.catalog.imports import apply_rows, check_csv
from portal.catalog.models import Brand, Product, ProductImage
from portal.catalog.services import brand_key, ensure_brands
from portal.extensions import db
from tests.catalog.helpers import HEADER, product, shop
from tests.factories import PASSWORD
from tests.hostile_corpus import png_declaring
from tests.vendors.test_profile import profile_data


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Brand Shop")
    auth.login(user.email)
    return client, vendor


def new_product(client, **fields):
    data = {"title": "Notebook", "price": "9.90", "inventory": "1"} | fields
    return client.post("/vendor/products/new", data=data)


def brands():
    return db.session.execute(sa.select(Brand.name, Brand.slug).order_by(Brand.slug)).all()


# --- brands ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Moleskine", "MOLESKINE"),
        ("Moleskine", "mole-skine"),
        ("Dr. Oetker", "dr oetker"),
        ("\uff2d\uff4f\uff4c\uff45\uff53\uff4b\uff49\uff4e\uff45", "moleskine"),  # full width
        ("Straße", "STRASSE"),  # case folding
    ],
)
def test_a_brand_differing_only_in_case_or_punctuation_is_reused(vendor_client, a, b):
    client, vendor = vendor_client
    assert new_product(client, brand=a, sku="A").status_code == 302
    assert new_product(client, brand=b, sku="B").status_code == 302
    assert brands() == [(a, brands()[0].slug)]
    ids = set(db.session.scalars(sa.select(Product.brand_id).where(Product.vendor_id == vendor.id)))
    assert len(ids) == 1


def test_different_names_whose_slugs_collide_are_two_brands_with_suffixed_slugs(vendor_client):
    client, _ = vendor_client
    for n, name in enumerate(["Мольберт", "Карандаш", "鉛筆"]):
        assert new_product(client, brand=name, sku=f"S{n}").status_code == 302
    assert brands() == [("Мольберт", "brand"), ("Карандаш", "brand-2"), ("鉛筆", "brand-3")]


def test_latin_names_with_one_slug_get_suffixes_too(vendor_client):
    client, _ = vendor_client
    assert new_product(client, brand="A+B", sku="1").status_code == 302
    assert new_product(client, brand="A&B", sku="2").status_code == 302  # key "ab" for both
    assert new_product(client, brand="A B 2", sku="3").status_code == 302
    assert len(brands()) == 2  # A+B and A&B normalise alike: one brand
    assert [slug for _, slug in brands()] == ["a-b", "a-b-2"]


def test_the_importer_reuses_brands_by_normalised_name(vendor_client):
    client, vendor = vendor_client
    product(vendor, title="Old", sku="OLD")
    assert new_product(client, brand="Moleskine", sku="FORM").status_code == 302
    text = (
        f"{HEADER}\nI-1,Notebook,,,MOLESKINE,,1.00,1,active,\nI-2,Pen,,,Мольберт,,1.00,1,active,\n"
    )
    checked = check_csv(text.encode())
    assert checked.ok, checked.errors
    apply_rows(vendor.id, checked.rows, checked.columns)
    assert brands() == [("Мольберт", "brand"), ("Moleskine", "moleskine")]


def test_brand_key_is_independent_of_case_blanks_and_punctuation():
    assert brand_key("  Mole-Skine! ") == "moleskine"
    assert brand_key("!!!") == "!!!"
    assert brand_key("Мольберт") == "мольберт"


# --- races on unique constraints (real concurrent transactions) ---------------------------------


def raw_connection(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False))


def test_two_new_products_with_one_sku_at_once_give_a_form_error(app, live_server, committed):
    user, vendor = shop(shop_name="Race Shop")
    email, vendor_id = user.email, vendor.id
    committed.commit()
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})

    # The other request's INSERT is in, not yet committed: our check sees nothing, our INSERT waits.
    other = raw_connection(app)
    other.execute(
        "INSERT INTO products (vendor_id, sku, title, price, inventory, status) "
        "VALUES (%s, 'RACE-1', 'First', 1, 1, 'active')",
        (vendor_id,),
    )
    result = {}
    request = threading.Thread(
        target=lambda: result.setdefault("response", new_product(client, sku="RACE-1"))
    )
    request.start()
    time.sleep(1.0)
    assert request.is_alive(), "the second insert should wait for the first transaction"
    other.commit()
    other.close()
    request.join(timeout=30)

    response = result["response"]
    assert response.status_code == 422
    assert "You already have a product with SKU &#39;RACE-1&#39;" in response.get_data(as_text=True)
    db.session.expire_all()
    titles = db.session.scalars(sa.select(Product.title).where(Product.vendor_id == vendor_id))
    assert list(titles) == ["First"]


def test_one_new_brand_created_twice_at_once_is_one_brand(app, live_server, committed):
    committed.commit()
    first_inserted, results = threading.Event(), {}

    def create(name: str, hold: float):
        with app.app_context():
            results[name] = ensure_brands([name])[name]
            first_inserted.set()
            time.sleep(hold)  # keep the transaction open while the other one tries
            db.session.commit()

    first = threading.Thread(target=create, args=("Moleskine", 1.0))
    first.start()
    first_inserted.wait(10)
    second = threading.Thread(target=create, args=("MOLESKINE", 0))
    second.start()
    first.join(30)
    second.join(30)
    assert results["Moleskine"] == results["MOLESKINE"]
    db.session.expire_all()
    assert brands() == [("Moleskine", "moleskine")]


# --- decompression bombs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [(30000, 30000), (8000, 8000)],  # above Pillow's own bomb limit, and above ours only
)
def test_a_bomb_png_as_product_photo_is_a_form_error(vendor_client, width, height):
    client, vendor = vendor_client
    item = product(vendor, title="Photo", sku="P")
    response = client.post(
        f"/vendor/products/{item.id}/images",
        data={"image": (io.BytesIO(png_declaring(width, height)), "bomb.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "That image has too many pixels (at most 50 megapixels)." in response.get_data(True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductImage)) == 0


def test_a_bomb_png_as_logo_is_a_form_error(client, auth, db_session):
    user, vendor = shop(shop_name="Logo Shop")
    auth.login(user.email)
    data = profile_data(logo=(io.BytesIO(png_declaring(30000, 30000)), "logo.png"))
    response = client.post("/vendor/shop/", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "too many pixels" in response.get_data(as_text=True)
    db_session.refresh(vendor)
    assert vendor.logo_path is None
