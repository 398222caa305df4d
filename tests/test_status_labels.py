"""Statuses in words, from one place (portal/status_labels.py): the customer's orders, the shop's
orders list and its deliveries never show the stored value ("paid", "created")."""

from __future__ import annotations

import re

from portal import status_labels
from portal.deliveries import states
from portal.orders.models import ORDER_STATUSES
from portal.vendors.services import vendor_for_user
from tests.deliveries.tracking_helpers import tracked
from tests.factories import make_customer, make_vendor
from tests.orders.helpers import paid_order


def badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge badge-[a-z]+">([^<]*)</span>', html)


def test_every_status_has_words():
    for status in ORDER_STATUSES:
        assert status_labels.order_label(status) in status_labels.ORDER_LABELS.values()
    for status in states.TRANSITIONS:
        assert status_labels.delivery_label(status) == states.LABELS[status]
    assert status_labels.delivery_label(None) == "Not dispatched"
    assert status_labels.order_label("something_new") == "Something new"
    assert status_labels.order_tone("paid") == "info" and status_labels.order_tone("x") == "neutral"


def test_the_customers_orders_show_words_with_their_colour(client, auth, db_session):
    shop = vendor_for_user(make_vendor(shop_name="Words Shop"))
    me = make_customer(email="words@example.com")
    paid_order(shop, email="words@example.com")
    auth.login(me.email)
    page = client.get("/account/").get_data(as_text=True)
    assert '<span class="badge badge-info">Paid</span>' in page
    assert "paid" not in badges(page)


def test_the_shops_orders_and_deliveries_show_words(client, auth, db_session):
    owner = make_vendor(shop_name="Words Books")
    shop = vendor_for_user(owner)
    delivery = tracked("created", order=paid_order(shop))
    auth.login(owner.email)
    orders_page = client.get("/vendor/orders/").get_data(as_text=True)
    assert "Looking for a driver" in orders_page
    assert ">created<" not in orders_page
    deliveries = client.get("/vendor/deliveries/").get_data(as_text=True)
    assert f'id="delivery-{delivery.id}"' in deliveries
    assert '<span class="badge badge-info">Looking for a driver</span>' in deliveries
