"""The input rules of portal/inputs.py, each tested for its whole class, over HTTP where it is HTTP.

Expected values come from the column definitions written out by hand (NUMERIC(10, 2): at most
99999999.99; PostgreSQL ``integer``: at most 2**31 - 1), not from the code's own helpers.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog.models import Product
from portal.inputs import UnsafeInput, fit_integer, fit_numeric, json_depth, parse_month
from portal.orders.models import OrderItem
from tests.catalog.helpers import product, shop
from tests.vendors.test_dashboard_and_statement import sell


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Safe Shop")
    auth.login(user.email)
    return client, vendor


# --- text: NUL bytes and lone surrogates, wherever they come in -----------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/vendor/products/", {"query_string": {"q": "tea\x00"}}),
        ("GET", "/vendor/orders/", {"query_string": {"status": "\x00"}}),
        ("GET", "/vendor/orders/abc%00def", {}),
        ("POST", "/vendor/products/new", {"data": {"title": "Tea\x00", "price": "1"}}),
        ("POST", "/vendor/staff/invitations", {"data": {"email": "a\x00@example.com"}}),
    ],
)
def test_a_nul_byte_anywhere_is_a_400_with_a_reason(vendor_client, method, path, kwargs):
    client, _ = vendor_client
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == 400
    assert "NUL byte or an invalid character" in response.get_data(as_text=True)


def test_a_nul_byte_on_a_public_form_is_refused_before_any_query(client):
    response = client.post("/login", data={"email": "x\x00@example.com", "password": "p"})
    assert response.status_code == 400


def test_a_nul_byte_in_an_upload_name_is_refused(vendor_client):
    client, _ = vendor_client
    response = client.post(
        "/vendor/products/import",
        data={"file": (io.BytesIO(b"sku,title,price\nA,B,1\n"), "a\x00.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_text_without_nul_passes_untouched(vendor_client):
    client, vendor = vendor_client
    response = client.post(
        "/vendor/products/new",
        data={"title": "Thé vert \U0001f375 ١٢", "price": "3.50", "inventory": "2"},
    )
    assert response.status_code == 302
    titles = set(Product.query.with_entities(Product.title).filter_by(vendor_id=vendor.id))
    assert titles == {("Thé vert \U0001f375 ١٢",)}


# --- numbers: what the column holds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12.345", Decimal("12.35")),
        ("12.344", Decimal("12.34")),
        ("99999999.99", Decimal("99999999.99")),
        ("0", Decimal("0.00")),
        ("1e-999999", Decimal("0.00")),
    ],
)
def test_prices_the_column_holds_are_rounded_half_up(typed, expected):
    assert fit_numeric(Decimal(typed), Product.price) == expected


@pytest.mark.parametrize("typed", ["1e27", "9" * 30, "99999999.995", "100000000", "-1e27"])
def test_prices_the_column_cannot_hold_are_refused(typed):
    with pytest.raises(UnsafeInput, match="too large"):
        fit_numeric(Decimal(typed), Product.price)


def test_integers_follow_postgresqls_integer_range():
    assert fit_integer(2**31 - 1, OrderItem.quantity) == 2147483647
    for value in (2**31, 10**30):
        with pytest.raises(UnsafeInput, match="too large"):
            fit_integer(value, OrderItem.quantity)
    with pytest.raises(UnsafeInput):
        fit_integer(-(2**31) - 1, OrderItem.quantity)


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("price", "1e27", "The price is too large (at most 99999999.99)."),
        ("price", "9" * 30, "The price is too large (at most 99999999.99)."),
        ("price", "NaN", "is not a price"),
        ("inventory", "2147483648", "Inventory is too large (at most 2,147,483,647)."),
        ("inventory", "9" * 40, "Inventory is too large"),
    ],
)
def test_the_product_form_says_what_is_too_large(vendor_client, field, typed, message):
    client, _ = vendor_client
    data = {"title": "Tea", "price": "1.00", "inventory": "1", field: typed}
    response = client.post("/vendor/products/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_inline_edit_refuses_a_huge_price(vendor_client):
    client, vendor = vendor_client
    item = product(vendor, title="Tea", sku="T-1")
    response = client.post(f"/vendor/products/{item.id}/inline/price", data={"value": "1e27"})
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)


# --- dates and months ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("2026-11", date(2026, 11, 1)), (" 2026-02 ", date(2026, 2, 1)), ("   ", None), ("", None)],
)
def test_months_parse(typed, expected):
    assert parse_month(typed) == expected


@pytest.mark.parametrize("typed", ["9999-12", "0000-01", "2026-13", "2026-1", "26-11", "x"])
def test_months_out_of_range_or_malformed_are_refused(typed):
    with pytest.raises(UnsafeInput):
        parse_month(typed)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("9999-12", "Choose a date between 1900 and 2999."),
        ("2026-13", "That month does not exist."),
    ],
)
def test_the_statement_shows_the_month_error_and_lists_every_row(vendor_client, month, message):
    client, vendor = vendor_client
    sell(vendor, "10.00")
    page = client.get("/vendor/commissions/", query_string={"month": month})
    assert page.status_code == 200
    assert message in page.get_data(as_text=True)
    export = client.get("/vendor/commissions/export.csv", query_string={"month": month})
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [row["amount"] for row in rows] == ["10.00"]  # the bad filter is not applied


def test_a_blank_month_is_no_filter(vendor_client):
    client, vendor = vendor_client
    sell(vendor, "10.00")
    for path in ("/vendor/commissions/", "/vendor/commissions/export.csv"):
        response = client.get(path, query_string={"month": "   "})
        assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert 'filename="commissions-' in response.headers["Content-Disposition"]


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01"])
def test_the_orders_list_refuses_dates_out_of_range(vendor_client, field, typed):
    client, vendor = vendor_client
    sell(vendor, "10.00")
    response = client.get("/vendor/orders/", query_string={field: typed})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Choose a date between 1900 and 2999." in html


# --- JSON depth ----------------------------------------------------------------------------------


def test_json_depth_counts_brackets_outside_strings_only():
    assert json_depth(b"{}") == 1
    assert json_depth(b'[{"a": [1, {"b": "[[[[{{{{"}]}]') == 4
    assert json_depth(b'["\\"[[["]') == 1  # an escaped quote does not end the string
    assert json_depth(b"[" * 100_000) == 100_000
    assert json_depth(b"1") == 0


def test_products_table_has_the_columns_the_rules_read(db_session):
    # The numeric rule reads precision and scale from the model; the database must agree.
    row = db_session.execute(
        sa.text(
            "SELECT numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_name = 'products' AND column_name = 'price'"
        )
    ).one()
    assert tuple(row) == (10, 2)
