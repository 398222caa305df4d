"""How many SQL statements each vendor page sends, so a new N+1 (a query per row) fails here.

The shop has more of everything than a page shows (orders with several items and their own
customers, commission rows, products with brands and categories); a page's count must not depend
on how many rows it lists. And no statement counts a shop's whole history: counts over orders or
commission records stop at a LIMIT (the pager's "1,000+"), or stay within one period of the
partition key (the statement's month: its totals and count are that month's partition's).
"""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog.services import get_or_create_brand, get_or_create_category
from portal.customers.services import customer_for_user
from portal.orders import services as orders
from portal.vendors.services import vendor_for_user
from tests.catalog.helpers import product
from tests.factories import make_customer, make_vendor

ORDERS = 45  # more than two pages of 20
PRODUCTS = 40  # more than a page of 25
BUYERS = 8  # a page's orders come from several customers

#: The most statements each page may send: who asks (the signed-in user with the shop and role,
#: which the view and the nav share: tests/vendors/test_signed_in_lookup.py), then the page's own.
BOUNDS = {
    "/vendor/": 2,
    "/vendor/orders/": 6,
    "/vendor/commissions/": 5,  # with the months retention summarised (commission_summaries)
    "/vendor/products/": 6,
}


SAVEPOINT_CONTROL = re.compile(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b")


@contextmanager
def statements():
    """Every SQL statement sent inside the block (a listener on every engine's cursor).

    Savepoints are left out: they are the test fixture's way of nesting each request's transaction
    in the test's (a request that ends its read with COMMIT releases one, the next opens another);
    under gunicorn those are BEGIN and COMMIT, which no page can save.
    """
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not SAVEPOINT_CONTROL.match(statement):
            sent.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


@pytest.fixture
def busy_shop(db_session):
    owner = make_vendor(email="owner@example.com", shop_name="Busy Books")
    vendor = vendor_for_user(owner)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=ORDERS)
    buyers = [
        customer_for_user(make_customer(email=f"buyer{n}@example.com", full_name=f"Buyer {n}"))
        for n in range(BUYERS)
    ]
    for n in range(ORDERS):
        buyer = buyers[n % BUYERS]
        at = start + timedelta(hours=n)
        order = orders.place_order(
            vendor_id=vendor.id,
            customer_id=buyer.id,
            items=[
                orders.LineItem(title="Mug", quantity=1, unit_price=Decimal("12.00")),
                orders.LineItem(title="Tea", quantity=2, unit_price=Decimal("4.50")),
            ],
            placed_at=at,
        )
        orders.mark_paid(order, at)
    brands = [get_or_create_brand(f"Brand {n}") for n in range(3)]
    categories = [get_or_create_category(f"Category {n}") for n in range(3)]
    for n in range(PRODUCTS):
        product(
            vendor,
            title=f"Product {n}",
            sku=f"SKU-{n}",
            brand=brands[n % 3],
            category=categories[n % 3],
        )
    return owner


def counted_get(client, path: str) -> tuple[str, list[str]]:
    with statements() as sent:
        response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True), sent


def counts_history(statement: str) -> bool:
    """A count over the shop's orders or commission records that neither a LIMIT stops nor a
    period of the partition key (``created_at >=`` and ``<`` on the counted table) bounds."""
    flat = " ".join(statement.split())
    table = re.search(r"FROM (orders|commission_records)\b", flat)
    if "count(*)" not in flat or table is None or "LIMIT" in flat:
        return False
    column = f"{table.group(1)}.created_at"
    return not (f"{column} >=" in flat and f"{column} <" in flat)


def test_each_vendor_page_sends_a_fixed_small_number_of_statements(client, auth, busy_shop):
    auth.login(busy_shop.email)
    month = datetime.now(UTC).strftime("%Y-%m")
    for path, bound in BOUNDS.items():
        client.get(path)  # the first request of a session may differ; count a steady one
        _, sent = counted_get(client, path)
        assert len(sent) <= bound, f"{path}: {len(sent)} statements\n\n" + "\n\n".join(sent)
        assert not any(counts_history(statement) for statement in sent), path
    _, sent = counted_get(client, f"/vendor/commissions/?month={month}")
    assert len(sent) <= BOUNDS["/vendor/commissions/"]
    assert not any(counts_history(statement) for statement in sent)


@pytest.mark.parametrize("query", ["q=Buyer+3", "q=uyer", "q=%231001", "q=1020&status=paid"])
def test_a_search_costs_what_the_list_costs(client, auth, busy_shop, query):
    """By number (one row of vendor_order_numbers) or by name (the matching customers first):
    the orders page's statements, none counting the shop's history without a LIMIT."""
    auth.login(busy_shop.email)
    path = f"/vendor/orders/?{query}"
    client.get(path)
    page, sent = counted_get(client, path)
    assert "order" in page and "No orders match" not in page, query
    assert len(sent) <= BOUNDS["/vendor/orders/"], f"{path}: {len(sent)}\n\n" + "\n\n".join(sent)
    assert not any(counts_history(statement) for statement in sent)


def test_an_older_keyset_page_costs_what_the_first_costs(client, auth, busy_shop):
    auth.login(busy_shop.email)
    for path in ("/vendor/orders/", "/vendor/commissions/"):
        first, _ = counted_get(client, path)
        older = re.search(r'hx-get="([^"]*before=[^"]+)"', first).group(1)
        page, sent = counted_get(client, html.unescape(older))
        assert "← Newer" in page
        assert len(sent) <= BOUNDS[path], f"{path}: {len(sent)}\n\n" + "\n\n".join(sent)


def test_the_history_check_would_see_an_uncapped_count():
    # The check above must be able to fail: the old pager's count over the shop's orders.
    old_pager = "SELECT count(*) AS count_1 FROM (SELECT orders.id FROM orders WHERE x) AS anon_1"
    assert counts_history(old_pager)
    assert not counts_history(old_pager.replace("WHERE x", "WHERE x LIMIT 1001"))
    month = (
        "SELECT count(*) FROM commission_records WHERE commission_records.shop_id = 1 AND "
        "commission_records.created_at >= '2026-10-01' AND commission_records.created_at < '{end}'"
    )
    assert not counts_history(month.format(end="2026-11-01"))
    assert counts_history(month.replace("AND commission_records.created_at < '{end}'", ""))


@pytest.mark.parametrize(
    "cursor",
    ["before=garbage", "after=2026-13-01T00:00:00_x", "before=%01", "after=" + "9" * 200],
)
def test_a_malformed_page_link_shows_the_first_page(client, auth, db_session, cursor):
    owner = make_vendor(email="owner@example.com", shop_name="Quiet Books")
    auth.login(owner.email)
    for path in ("/vendor/orders/", "/vendor/commissions/"):
        response = client.get(f"{path}?{cursor}")
        assert response.status_code == 200
        assert "newest first" in response.get_data(as_text=True)
