"""CSV downloads neutralise formula cells (OWASP), keep numbers numbers, and still round-trip."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog.jobs import run_product_import
from portal.catalog.models import Brand, Product
from portal.csv_safety import ROWS_PER_CHUNK, csv_response, neutralise, restore_text
from portal.extensions import db
from portal.orders import services as orders
from tests.catalog.helpers import product, shop
from tests.catalog.test_import_job import upload_import
from tests.vendors.test_dashboard_and_statement import sell

FORMULAS = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=already quoted", "''-twice"]
PLAIN = ["plain", "1-2", "a=b", "", "'quote only", " =leading blank"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_a_quote_and_comes_back(text):
    assert neutralise(text) == "'" + text
    assert restore_text(neutralise(text)) == text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text and restore_text(text) == text


@pytest.mark.parametrize("number", [Decimal("-4.75"), -3, Decimal("0.00")])
def test_numbers_stay_numbers(number):
    assert neutralise(number) is number


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Formula Shop")
    auth.login(user.email)
    return client, vendor


def test_the_product_export_neutralises_and_the_import_reads_it_back(vendor_client):
    client, vendor = vendor_client
    for n, text in enumerate(FORMULAS):
        product(
            vendor,
            title=text,
            sku=f"-SKU{n}",
            description=f"@desc {n}",
            attributes={"-k": "=v"},
            price=Decimal("2.00"),
        )
    db.session.flush()
    exported = client.get("/vendor/products/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    by_sku = {row["sku"]: row for row in rows}
    assert set(by_sku) == {f"'-SKU{n}" for n in range(len(FORMULAS))}
    for n, text in enumerate(FORMULAS):
        row = by_sku[f"'-SKU{n}"]
        assert row["title"] == "'" + text, row
        assert row["description"] == f"'@desc {n}"
        assert row["attributes"] == "'-k==v"
        assert row["price"] == "2.00"  # a number, unprefixed
    for cell in (cell for row in rows for cell in row.values()):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    # Export -> import: every product is found again by its SKU and nothing changes.
    imp = upload_import(client, vendor, exported)
    summary = run_product_import(str(imp.id))
    assert (summary["created"], summary["updated"]) == (0, 0)
    db.session.expire_all()
    titles = set(db.session.scalars(sa.select(Product.title).where(Product.vendor_id == vendor.id)))
    assert titles == set(FORMULAS)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Brand)) == 0


def test_the_statement_csv_keeps_refunds_negative_numbers(vendor_client):
    client, vendor = vendor_client
    order = sell(vendor, "100.00")
    orders.refund_order(order, Decimal("40.00"), "refund-1")
    exported = client.get("/vendor/commissions/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    refund = next(row for row in rows if row["kind"] == "refund")
    assert refund["amount"] == "-40.00" and refund["commission"] == "-6.00"
    assert refund["net"].startswith("-")


def test_an_error_before_the_first_rows_happens_before_the_response_starts(app):
    """So it becomes an error page, not a download cut after its headers were sent."""

    def rows():
        raise ValueError("the query could not be built")
        yield ["never"]

    with app.test_request_context("/"), pytest.raises(ValueError, match="could not be built"):
        csv_response("x.csv", ["a"], rows())


def test_rows_after_the_first_chunk_stream(app):
    produced = []

    def rows():
        for n in range(ROWS_PER_CHUNK * 2 + 1):
            produced.append(n)
            yield [n, f"-{n}"]

    with app.test_request_context("/"):
        response = csv_response("x.csv", ["n", "text"], rows())
        assert len(produced) == ROWS_PER_CHUNK  # only the first chunk was made up front
        lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "n,text" and lines[1] == "0,'-0" and len(lines) == ROWS_PER_CHUNK * 2 + 2
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
