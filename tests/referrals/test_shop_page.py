"""A shop's public page: anyone sees an active shop's name, logo, description and products."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.catalog.services import create_product
from portal.extensions import db
from tests.factories import MAKERS
from tests.orders.helpers import established_shop
from tests.referrals.helpers import follow


@pytest.fixture
def shop(db_session):
    shop = established_shop()
    shop.name = "Rose & Thorn Florist"
    shop.description = "Fresh flowers, cut daily."
    db.session.flush()
    return shop


def test_the_page_shows_the_shop_and_its_active_products_without_sign_in(client, shop):
    create_product(shop, title="Tulip bunch", sku="T-1", price=Decimal("12.50"), inventory=4)
    archived = create_product(shop, title="Old vase", sku="V-1", price=Decimal("9.00"), inventory=1)
    archived.status = "archived"
    create_product(establish_other(), title="Someone else's mug", sku="M-1", price=Decimal("5"))
    db.session.flush()

    response = client.get(f"/shops/{shop.slug}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Rose &amp; Thorn Florist" in page and "Fresh flowers, cut daily." in page
    assert "Tulip bunch" in page and "$12.50" in page
    assert "Old vase" not in page and "Someone else" not in page
    assert 'name="viewport"' in page  # phone first


def establish_other():
    return established_shop()


def test_a_shop_without_products_says_so(client, shop):
    assert "no products listed yet" in client.get(f"/shops/{shop.slug}").get_data(as_text=True)


def test_products_are_paged(client, app, shop):
    app.config["SHOP_PAGE_PRODUCTS_PER_PAGE"] = 2
    try:
        for n in range(5):
            create_product(shop, title=f"Item {n}", sku=f"I-{n}", price=Decimal("1"), inventory=1)
        last = client.get(f"/shops/{shop.slug}?page=3").get_data(as_text=True)
        past = client.get(f"/shops/{shop.slug}?page=99").get_data(as_text=True)
    finally:
        app.config["SHOP_PAGE_PRODUCTS_PER_PAGE"] = 48
    assert "Item 4" in last and "Item 0" not in last and "page 3 of 3" in last
    assert "Item 4" in past  # a stale link past the end shows the last page


@pytest.mark.parametrize("status", ["suspended", "pending"])
def test_a_shop_not_active_has_no_public_page(client, shop, status):
    shop.status = status
    db.session.flush()
    assert client.get(f"/shops/{shop.slug}").status_code == 404


def test_an_unknown_shop_is_a_404(client, db_session):
    assert client.get("/shops/no-such-shop").status_code == 404


@pytest.mark.parametrize("role", ["customer", "vendor", "driver", "admin"])
def test_every_role_may_see_it(client, auth, shop, role):
    user = MAKERS[role]()
    auth.login(user.email)
    assert client.get(f"/shops/{shop.slug}").status_code == 200


def test_the_link_lands_on_the_page(client, shop):
    response = follow(client, shop.referral_code)
    assert client.get(response.headers["Location"]).status_code == 200
