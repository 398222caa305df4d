import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.orders import services as orders
from portal.tiers.dashboard import tier_progress
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor


def sell(vendor, amount: str, *, at: datetime | None = None, customer=None):
    """A paid order of one item through order intake."""
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer,
        items=[orders.LineItem(title="Thing", quantity=1, unit_price=Decimal(amount))],
        placed_at=at,
    )
    orders.mark_paid(order, at)
    return order


@pytest.fixture
def shop(db_session):
    owner = make_vendor(email="owner@example.com", shop_name="Sunny Books")
    return owner, vendor_for_user(owner)


@pytest.fixture
def other_shop(db_session):
    owner = make_vendor(email="rival@example.com", shop_name="Rival Books")
    return owner, vendor_for_user(owner)


def test_tier_progress_counts_what_is_left_to_sell(app):
    with app.app_context():
        bronze = tier_progress(Decimal("1250.00"))
        assert (bronze.next_tier, bronze.left_to_sell, bronze.percent) == (
            "silver",
            Decimal("3750.00"),
            25,
        )
        silver = tier_progress(Decimal("5000.00"))
        assert (silver.next_tier, silver.left_to_sell, silver.percent) == (
            "gold",
            Decimal("15000.00"),
            0,
        )
        top = tier_progress(Decimal("25000"))
        assert top.next_tier is None and top.percent == 100


def test_dashboard_shows_tier_sales_progress_and_commission(client, auth, shop):
    owner, vendor = shop
    sell(vendor, "1000.00")
    sell(vendor, "250.00")
    auth.login(owner.email)
    page = client.get("/vendor/").get_data(as_text=True)

    assert "Bronze" in page and "Commission 15%" in page
    assert "$1,250.00" in page  # month-to-date sales
    assert "$3,750.00 more this month earns Silver" in page
    assert "$187.50" in page  # 15% commission pending on 1,250.00
    assert "data-chart=" in page


def test_statement_lists_rows_filters_and_paginates(client, auth, shop):
    owner, vendor = shop
    last_month = (datetime.now(UTC).replace(day=1) - timedelta(days=3)).replace(hour=12)
    sell(vendor, "80.00", at=last_month)
    for n in range(27):
        sell(vendor, f"{10 + n}.00")
    auth.login(owner.email)

    full = client.get("/vendor/commissions/")
    assert full.status_code == 200
    body = full.get_data(as_text=True)
    assert "28 rows" in body and "newest first" in body and "<html" in body
    assert body.count('<tr class="sale">') == 25

    older = re.search(r'hx-get="(/vendor/commissions/\?before=[^"]+)"', body).group(1)
    fragment = client.get(html.unescape(older), headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "28 rows" in text and "Older →" not in text
    assert text.count('<tr class="sale">') == 3 and "$80.00" in text  # last month's is oldest
    assert "HX-Request" in fragment.headers["Vary"]

    month = last_month.strftime("%Y-%m")
    filtered = client.get(f"/vendor/commissions/?month={month}").get_data(as_text=True)
    assert "1 row ·" in filtered and "$80.00" in filtered and "$12.00" in filtered  # 15% of 80

    assert "0 rows" in client.get("/vendor/commissions/?status=paid").get_data(as_text=True)
    bad = client.get("/vendor/commissions/?month=2026-13")
    assert bad.status_code == 200 and "That month does not exist." in bad.get_data(as_text=True)


def test_statement_csv_has_the_same_rows(client, auth, shop):
    owner, vendor = shop
    order = sell(vendor, "100.00")
    orders.refund_order(order, Decimal("40.00"), "refund-1")
    auth.login(owner.email)

    response = client.get("/vendor/commissions/export.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["kind"] for row in rows] == ["sale", "refund"]
    sale, refund = rows
    assert (sale["amount"], sale["commission"], sale["status"]) == ("100.00", "15.00", "pending")
    assert Decimal(refund["amount"]) == Decimal("-40.00") and Decimal(
        refund["commission"]
    ) == Decimal("-6.00")
    total = sum(Decimal(r["amount"]) for r in rows)
    parts = sum(Decimal(r["net"]) + Decimal(r["commission"]) + Decimal(r["fee"]) for r in rows)
    assert total == parts == Decimal("60.00")


def test_a_vendor_never_sees_another_vendors_rows(client, auth, shop, other_shop):
    owner, _ = shop
    _, rival = other_shop
    rival_order = sell(rival, "999.00")
    auth.login(owner.email)

    statement = client.get("/vendor/commissions/").get_data(as_text=True)
    assert "0 rows" in statement and "999" not in statement
    export = client.get("/vendor/commissions/export.csv").get_data(as_text=True)
    assert str(rival_order.id) not in export
    assert "$999" not in client.get("/vendor/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/vendor/commissions/", "/vendor/commissions/export.csv"])
@pytest.mark.parametrize("role", ["customer", "driver", "admin"])
def test_statement_refuses_other_roles(client, auth, path, role):
    from tests.factories import MAKERS

    user = MAKERS[role]()
    auth.login(user.email)
    assert client.get(path).status_code == 403


def totals_row(page: str) -> list[str]:
    """The totals row's cells, as shown."""
    foot = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", foot, re.S)
    ]


def test_the_statement_totals_every_row_the_filters_select(client, auth, shop):
    owner, vendor = shop
    vendor.created_at = datetime.now(UTC) - timedelta(days=365)  # fees at 2.9%
    last_month = (datetime.now(UTC).replace(day=1) - timedelta(days=3)).replace(hour=12)
    sell(vendor, "80.00", at=last_month)
    refunded = sell(vendor, "100.00")
    orders.refund_order(refunded, Decimal("40.00"), "refund-1")
    for _ in range(26):  # more than a page: the totals are every page's
        sell(vendor, "10.00")
    auth.login(owner.email)

    # 80 + 100 - 40 + 26 x 10 = 400 of sales; commission 15%: 12 + 15 - 6 + 26 x 1.50 = 60;
    # fee 2.9%: 2.32 + 2.90 - 1.16 + 26 x 0.29 = 11.60; net = 400 - 60 - 11.60.
    page = client.get("/vendor/commissions/").get_data(as_text=True)
    assert totals_row(page) == [
        "Total 29 rows, every page",
        "$400.00",
        "",
        "$60.00",
        "$11.60",
        "$328.40",
        "",
    ]
    month = last_month.strftime("%Y-%m")
    page = client.get(f"/vendor/commissions/?month={month}").get_data(as_text=True)
    assert totals_row(page) == ["Total 1 row", "$80.00", "", "$12.00", "$2.32", "$65.68", ""]
    assert "1 row ·" in page

    # By status, unfiltered by month: the kept totals of that status alone.
    db.session.execute(
        sa.text("UPDATE commission_records SET status = 'settled' WHERE order_id = :id"),
        {"id": refunded.id},
    )
    page = client.get("/vendor/commissions/?status=settled").get_data(as_text=True)
    assert totals_row(page) == ["Total 2 rows", "$60.00", "", "$9.00", "$1.74", "$49.26", ""]
    assert page.count("Settled</td>") == 2


def test_each_statement_row_links_its_order_by_number(client, auth, shop):
    owner, vendor = shop
    order = sell(vendor, "100.00")
    orders.refund_order(order, Decimal("40.00"), "refund-1")
    auth.login(owner.email)
    page = client.get("/vendor/commissions/").get_data(as_text=True)
    link = f'<a href="/vendor/orders/{order.id}" class="order-number">{order.label}</a>'
    assert page.count(link) == 2  # the sale and its refund
    assert "Pending</td>" in page and ">pending<" not in page
    rows = list(
        csv.DictReader(io.StringIO(client.get("/vendor/commissions/export.csv").get_data(True)))
    )
    assert [(row["order"], row["order_id"]) for row in rows] == [(order.label, str(order.id))] * 2
