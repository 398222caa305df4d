"""Each shop numbers its orders (#1001, #1002, ...): at placement, whichever way the order came,
unique per shop even when two orders are placed at the same moment."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.customers.services import customer_for_user
from portal.extensions import db
from portal.orders import numbers
from portal.orders import services as orders
from portal.orders.intake import apply_order_event
from portal.orders.models import Order, VendorOrderCounter, VendorOrderNumber
from portal.vendors.services import vendor_for_user
from tests.database import empty_all_tables
from tests.factories import make_customer, make_vendor
from tests.orders.helpers import placed

ITEMS = [orders.LineItem(title="Mug", quantity=1, unit_price=Decimal("9.00"))]


def place(vendor_id) -> Order:
    return orders.place_order(vendor_id=vendor_id, items=ITEMS)


def test_each_shop_counts_its_own_orders_from_the_first_number(db_session, app):
    first = app.config["FIRST_ORDER_NUMBER"]
    one, two = (vendor_for_user(make_vendor()) for _ in range(2))
    a1, a2, b1, a3 = place(one.id), place(one.id), place(two.id), place(one.id)
    assert [a1.number, a2.number, a3.number] == [first, first + 1, first + 2]
    assert b1.number == first  # another shop starts at the beginning too
    assert a1.label == f"#{first}"
    claimed = db.session.execute(
        sa.select(VendorOrderNumber.number, VendorOrderNumber.order_id)
        .where(VendorOrderNumber.vendor_id == one.id)
        .order_by(VendorOrderNumber.number)
    ).all()
    assert claimed == [(a1.number, a1.id), (a2.number, a2.id), (a3.number, a3.id)]
    assert db.session.get(VendorOrderCounter, one.id).last_number == first + 2


def test_a_storefront_order_gets_the_shops_number_and_keeps_its_own(db_session, app):
    vendor = vendor_for_user(make_vendor())
    place(vendor.id)
    order = apply_order_event(placed(vendor, order_number="R-2044")).order
    assert order.number == app.config["FIRST_ORDER_NUMBER"] + 1
    assert (order.external_number, order.storefront_label) == ("R-2044", "R-2044")
    # Without a number of its own, the storefront's order id stands beside the shop's number.
    plain = apply_order_event(placed(vendor, external_id="order_01J9")).order
    assert plain.external_number is None and plain.storefront_label == "order_01J9"
    assert place(vendor.id).storefront_label is None


def test_a_placement_that_fails_gives_its_number_back(db_session, app):
    vendor = vendor_for_user(make_vendor())
    first = place(vendor.id)

    def failing_placement():
        with db.session.begin_nested():
            numbers.next_number(vendor.id)  # taken inside the failing placement...
            raise orders.InvalidOrder("amounts do not add up")

    with pytest.raises(orders.InvalidOrder):
        failing_placement()
    assert place(vendor.id).number == first.number + 1  # ... and given back


def test_the_side_table_refuses_a_number_twice(db_session):
    vendor = vendor_for_user(make_vendor())
    order = place(vendor.id)
    other = place(vendor.id)
    other.number = order.number
    with pytest.raises(IntegrityError), db.session.begin_nested():
        numbers.record_number(other)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1042", 1042),
        ("#1042", 1042),
        (" # 1042 ", 1042),
        ("#", None),
        ("10 42", None),
        ("Casey", None),
        ("1234567890", None),
        ("", None),
        (None, None),
    ],
)
def test_what_counts_as_an_order_number(text, number):
    assert numbers.parse_number(text) == number


# --- two placements at the same moment, on two real connections --------------------------------


@pytest.fixture
def committed_shop(app):
    with app.app_context():
        vendor = vendor_for_user(make_vendor())
        db.session.commit()
        vendor_id = vendor.id
    yield vendor_id
    with app.app_context():
        empty_all_tables()


def test_two_orders_placed_at_once_never_share_a_number(app, committed_shop):
    """The first placement holds the shop's counter until it commits; the second waits for it
    and takes the next number (it never reads the counter before the first one's commit)."""
    first_holds = threading.Event()
    release_first = threading.Event()
    results: dict[str, object] = {}

    def first():
        with app.app_context():
            results["first"] = place(committed_shop).number
            first_holds.set()
            release_first.wait(10)
            db.session.commit()
            results["first_committed"] = time.monotonic()

    def second():
        with app.app_context():
            first_holds.wait(10)
            results["second"] = place(committed_shop).number
            results["second_placed"] = time.monotonic()
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the second placement is now waiting on the counter row
    assert "second" not in results
    release_first.set()
    for thread in threads:
        thread.join(20)
    assert results["second"] == results["first"] + 1
    assert results["second_placed"] >= results["first_committed"]


def test_many_orders_placed_at_once_are_numbered_without_a_gap(app, committed_shop):
    barrier = threading.Barrier(6)
    placed_numbers: list[int] = []

    def place_one():
        with app.app_context():
            barrier.wait(10)
            number = place(committed_shop).number
            db.session.commit()
            placed_numbers.append(number)

    threads = [threading.Thread(target=place_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    first = app.config["FIRST_ORDER_NUMBER"]
    assert sorted(placed_numbers) == list(range(first, first + 6))
    with app.app_context():
        stored = db.session.scalars(
            sa.select(Order.number).where(Order.vendor_id == committed_shop)
        ).all()
        assert sorted(stored) == sorted(placed_numbers)


def test_the_customers_account_names_each_order_by_its_shop_and_number(client, auth, db_session):
    shop = vendor_for_user(make_vendor(shop_name="Sunny Books"))
    buyer = make_customer(email="reader@example.com")
    order = orders.place_order(
        vendor_id=shop.id, customer_id=customer_for_user(buyer).id, items=ITEMS
    )
    auth.login(buyer.email)
    page = client.get("/account/").get_data(as_text=True)
    # The number first: a long shop name is truncated on a phone, never the number.
    assert f"{order.label} · Sunny Books" in page
