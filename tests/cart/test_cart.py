"""One cart across shops: guests and customers, stock checked on every change, merged at sign-in."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.cart import service
from portal.cart.models import Cart, CartItem
from portal.catalog import products as product_service
from portal.extensions import db
from tests.catalog.helpers import product, shop
from tests.factories import make_customer, make_driver

pytestmark = pytest.mark.usefixtures("db_session")


def two_shops():
    _, bakery = shop(shop_name="Bakery")
    _, grocer = shop(shop_name="Grocer")
    loaf = product(bakery, title="Country loaf", sku="L", price=Decimal("6.50"), inventory=3)
    bun = product(bakery, title="Cinnamon bun", sku="B", price=Decimal("2.25"), inventory=10)
    milk = product(grocer, title="Oat milk", sku="M", price=Decimal("1.99"), inventory=5)
    db.session.commit()
    return bakery, grocer, loaf, bun, milk


def add(client, item, quantity="1", htmx=True, **extra):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        "/cart/add",
        data={"product_id": str(item.id), "quantity": quantity, **extra},
        headers=headers,
    )


def guest_lines(client):
    with client.session_transaction() as session:
        cart_id = session.get("cart_id")
    cart = db.session.get(Cart, cart_id) if cart_id else None
    return {line.title: line.quantity for s in service.summary(cart).shops for line in s.lines}


def test_a_guest_fills_one_cart_from_two_shops_grouped_by_shop(client):
    _, _, loaf, bun, milk = two_shops()
    assert add(client, loaf, "2").status_code == 200
    add(client, bun, "3")
    add(client, milk)
    add(client, loaf)  # adding again adds to the line

    page = client.get("/cart/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Bakery") < html.index("Grocer")
    assert guest_lines(client) == {"Country loaf": 3, "Cinnamon bun": 3, "Oat milk": 1}
    # Independent sums: 3 x 6.50 + 3 x 2.25, then + 1.99.
    assert "Subtotal from Bakery: <strong>$26.25</strong>" in html
    assert "Total <strong>$28.24</strong>" in html
    assert client.get("/cart/count").get_data(as_text=True) == "7"


def test_more_than_the_stock_is_refused_with_the_reason_and_nothing_changes(client):
    _, _, loaf, _, _ = two_shops()
    add(client, loaf, "2")
    refused = add(client, loaf, "2")
    assert refused.status_code == 422
    assert "Only 3 of “Country loaf” left" in refused.get_data(as_text=True)
    assert guest_lines(client) == {"Country loaf": 2}

    for bad, reason in (("0", "at least 1"), ("lots", "whole number"), ("1000", "At most 99")):
        response = add(client, loaf, bad)
        assert response.status_code == 422 and reason in response.get_data(as_text=True)
    assert guest_lines(client) == {"Country loaf": 2}


def test_products_not_on_sale_cannot_be_added_and_show_as_problems(client):
    _, _, loaf, bun, milk = two_shops()
    add(client, loaf)
    add(client, bun, "4")
    product_service.set_archived(loaf, True)
    bun.inventory = 2
    db.session.commit()

    assert "not on sale" in add(client, loaf).get_data(as_text=True)
    assert "not on sale" in add(client, milk, product_id="not-a-uuid").get_data(as_text=True)
    html = client.get("/cart/").get_data(as_text=True)
    assert "No longer on sale" in html and "Only 2 left now" in html
    assert "need a change" in html


def test_quantities_change_and_zero_removes_the_line(client):
    _, _, loaf, bun, _ = two_shops()
    add(client, loaf)
    add(client, bun)
    headers = {"HX-Request": "true"}
    assert (
        client.post(f"/cart/items/{bun.id}", data={"quantity": "5"}, headers=headers).status_code
        == 200
    )
    over = client.post(f"/cart/items/{loaf.id}", data={"quantity": "4"}, headers=headers)
    assert over.status_code == 422 and "Only 3" in over.get_data(as_text=True)
    client.post(f"/cart/items/{loaf.id}", data={"quantity": "0"}, headers=headers)
    assert guest_lines(client) == {"Cinnamon bun": 5}
    client.post(f"/cart/items/{bun.id}/remove", headers=headers)
    assert guest_lines(client) == {}
    assert "Your cart is empty" in client.get("/cart/").get_data(as_text=True)


def test_without_htmx_adding_redirects_back_with_a_message(client):
    _, _, loaf, _, _ = two_shops()
    response = add(client, loaf, htmx=False, next="/shops/bakery")
    assert response.status_code == 302 and response.headers["Location"] == "/shops/bakery"
    evil = add(client, loaf, htmx=False, next="//evil.example/")
    assert evil.headers["Location"] == "/cart/"


def test_a_request_without_the_csrf_token_changes_nothing(client):
    _, _, loaf, _, _ = two_shops()
    response = client.post(
        "/cart/add", data={"product_id": str(loaf.id), "quantity": "1"}, csrf=False
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0


def test_a_customer_keeps_their_cart_and_the_guest_cart_merges_at_sign_in(client, auth):
    _, _, loaf, bun, milk = two_shops()
    customer = make_customer()
    db.session.commit()
    auth.login(customer.email)
    add(client, loaf, "1")
    add(client, bun, "2")
    auth.logout()

    # As a guest on the same browser: more loaves than are left once someone else bought some.
    add(client, loaf, "3")
    add(client, milk, "2")
    loaf.inventory = 2
    db.session.commit()
    response = auth.login(customer.email)
    assert response.status_code == 302

    cart = db.session.scalar(sa.select(Cart).where(Cart.customer_id.is_not(None)))
    lines = {line.title: line.quantity for s in service.summary(cart).shops for line in s.lines}
    assert lines == {"Country loaf": 2, "Cinnamon bun": 2, "Oat milk": 2}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cart)) == 1
    assert "Only 2 of “Country loaf” left" in client.get("/cart/").get_data(as_text=True)


def test_staff_accounts_have_no_cart(client, auth):
    _, _, loaf, _, _ = two_shops()
    driver = make_driver()
    db.session.commit()
    auth.login(driver.email)
    refused = add(client, loaf)
    assert refused.status_code == 422 and "Carts are for customer accounts" in refused.get_data(
        as_text=True
    )
    assert "Carts are for customer accounts" in client.get("/cart/").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cart)) == 0


def test_a_session_naming_a_customers_cart_does_not_open_it(client, auth):
    _, _, loaf, _, _ = two_shops()
    customer = make_customer()
    db.session.commit()
    auth.login(customer.email)
    add(client, loaf)
    auth.logout()
    owned = db.session.scalar(sa.select(Cart.id).where(Cart.customer_id.is_not(None)))

    with client.session_transaction() as session:
        session["cart_id"] = str(owned)
    assert "Your cart is empty" in client.get("/cart/").get_data(as_text=True)
    with client.session_transaction() as session:
        session["cart_id"] = "garbage"
    assert client.get("/cart/").status_code == 200


def test_a_master_products_page_adds_the_chosen_shops_offer(client):
    from portal.catalog import mapping

    _, grocer = shop(shop_name="Grocer")
    _, corner = shop(shop_name="Corner")
    cheap = product(grocer, title="Oat milk 1l", sku="G1", price=Decimal("1.80"), inventory=4)
    dear = product(corner, title="Oat milk, 1 litre", sku="C1", price=Decimal("2.10"), inventory=0)
    master = mapping.create_master_from_product(cheap)
    mapping.map_product(cheap, master, method="new_master")
    mapping.map_product(dear, master, method="model", confidence=0.99)
    db.session.commit()

    html = client.get(f"/products/{master.slug}").get_data(as_text=True)
    # Only the offer in stock can be added.
    assert f'name="product_id" value="{cheap.id}"' in html
    assert f'name="product_id" value="{dear.id}"' not in html
    assert add(client, cheap, "2").status_code == 200
    assert guest_lines(client) == {"Oat milk 1l": 2}
    assert "not on sale" not in add(client, dear).get_data(as_text=True)
    assert "out of stock" in add(client, dear).get_data(as_text=True)
