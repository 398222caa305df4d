"""The vendor's referrals page: the link, its builder and QR code, the figures by source and
campaign over a period, the CSV, a new code, and who may see what."""

import csv
import io
import json
import re
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa

from portal.auth import services as accounts
from portal.extensions import db
from portal.referrals.models import ShopReferral
from portal.referrals.report import CSV_HEADER, TABLE_ROWS, report_period
from portal.vendors.models import Vendor, VendorMember
from portal.vendors.services import vendor_for_user
from tests.factories import PASSWORD, make_admin, make_customer, make_driver, make_vendor
from tests.referrals.page_data import add_day, add_visit, at_noon, days_ago

PAGE = "/vendor/referrals/"
HX = {"HX-Request": "true"}


@pytest.fixture
def shop(db_session):
    owner = make_vendor(email="owner@example.com", shop_name="Sunny Books")
    return owner, vendor_for_user(owner)


@pytest.fixture
def rival(db_session):
    owner = make_vendor(email="rival@example.com", shop_name="Rival Books")
    return owner, vendor_for_user(owner)


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def table_row(page: str, source: str, campaign: str) -> list[str]:
    """The cells of the sources table's row for (source, campaign)."""
    table = page.split('id="referral-sources"', 1)[1].split("</table>", 1)[0]
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells and cells[:2] == [source, campaign]:
            return cells
    raise AssertionError(f"no row for {source}/{campaign}")


def stat(page: str, id: str) -> str:
    card = page.split(f'id="{id}"', 1)[1].split("</article>", 1)[0]
    return re.search(r'<p class="stat">(.*?)</p>', card, re.S).group(1).strip()


def seed_sources(vendor):
    """Instagram's spring campaign: 100 visits, 4 conversions; a newsletter: 50 and 1; plain
    link: 10 and none. Lifetime values of the converted visits: 50, 70, 30, 50 and 30."""
    add_day(
        vendor,
        days_ago(10),
        source="instagram",
        medium="social",
        campaign="spring",
        visits=60,
        conversions=3,
        orders=4,
        revenue="150.00",
    )
    add_day(
        vendor,
        days_ago(3),
        source="instagram",
        medium="social",
        campaign="spring",
        visits=40,
        conversions=1,
        orders=1,
        revenue="50.00",
    )
    add_day(
        vendor,
        days_ago(5),
        source="newsletter",
        visits=50,
        conversions=1,
        orders=1,
        revenue="30.00",
    )
    add_day(vendor, days_ago(2), visits=10)
    for n, value in enumerate(["50.00", "70.00", "30.00", "50.00"]):
        add_visit(
            vendor,
            days_ago(12),
            source="instagram",
            medium="social",
            campaign="spring",
            converted_on=days_ago(10 if n < 3 else 3),
            lifetime_value=value,
            total_orders=1,
            session_id=f"ig-{n}",
        )
    add_visit(
        vendor,
        days_ago(6),
        source="newsletter",
        converted_on=days_ago(5),
        lifetime_value="30.00",
        total_orders=1,
    )


def test_page_shows_the_link_and_the_figures_by_source_and_campaign(client, auth, shop, app):
    owner, vendor = shop
    seed_sources(vendor)
    auth.login(owner.email)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = text_of(response)

    public = app.config["PUBLIC_URL"].rstrip("/")
    assert f'value="{public}/r/{vendor.referral_code}"' in page
    assert table_row(page, "instagram", "spring") == [
        "instagram",
        "spring",
        "100",
        "4",
        "4%",
        "$200.00",
        "$50.00",
    ]
    assert table_row(page, "newsletter", "(no campaign)") == [
        "newsletter",
        "(no campaign)",
        "50",
        "1",
        "2%",
        "$30.00",
        "$30.00",
    ]
    assert table_row(page, "(no source)", "(no campaign)") == [
        "(no source)",
        "(no campaign)",
        "10",
        "0",
        "0%",
        "$0.00",
        "—",
    ]
    assert stat(page, "total-visits") == "160"
    assert stat(page, "total-conversions") == "5"
    assert stat(page, "total-revenue") == "$230.00"
    assert stat(page, "total-ltv") == "$46.00"  # (50 + 70 + 30 + 50 + 30) / 5
    # Most visits first.
    assert page.index(">instagram<") < page.index(">newsletter<")


def test_chart_has_visits_and_conversions_by_week(client, auth, shop):
    owner, vendor = shop
    seed_sources(vendor)
    auth.login(owner.email)
    page = text_of(client.get(PAGE + "?period=3m"))
    chart = json.loads(re.search(r"data-chart='([^']+)'", page).group(1))
    visits, conversions = chart["datasets"]
    assert (visits["label"], conversions["label"]) == ("Visits", "Conversions")
    assert sum(visits["values"]) == 160 and sum(conversions["values"]) == 5
    assert 13 <= len(chart["labels"]) <= 15  # three months of weeks, empty ones included
    assert len(visits["values"]) == len(chart["labels"])


def test_the_period_picker_bounds_the_figures(client, auth, shop):
    owner, vendor = shop
    add_day(vendor, days_ago(1), source="recent", visits=5)
    add_day(vendor, days_ago(200), source="old", visits=7)
    add_visit(vendor, days_ago(201), source="old", converted_on=days_ago(200), lifetime_value="9")
    auth.login(owner.email)

    default = text_of(client.get(PAGE))  # the last 3 months
    assert ">recent<" in default and ">old<" not in default
    assert stat(default, "total-ltv") == "—"
    for period in ("12m", "all"):
        page = text_of(client.get(PAGE, query_string={"period": period}))
        assert ">old<" in page and stat(page, "total-visits") == "12"
        assert stat(page, "total-ltv") == "$9.00"
    month = days_ago(200).strftime("%Y-%m")
    page = text_of(client.get(PAGE, query_string={"period": month}))
    assert ">old<" in page and ">recent<" not in page
    assert f'value="{month}" selected' in page  # an older month is added to the picker

    fragment = text_of(client.get(PAGE, query_string={"period": "all"}, headers=HX))
    assert "<html" not in fragment and 'id="referral-totals"' in fragment


@pytest.mark.parametrize("bad", ["2026-13", "yesterday", "90d", "0000-01"])
def test_a_bad_period_says_why_and_shows_the_default(client, auth, shop, bad):
    owner, vendor = shop
    add_day(vendor, days_ago(1), source="recent", visits=5)
    auth.login(owner.email)
    response = client.get(PAGE, query_string={"period": bad})
    assert response.status_code == 400
    page = text_of(response)
    assert 'id="period-problem"' in page and "Showing last 3 months" in page
    assert ">recent<" in page
    assert (
        client.get("/vendor/referrals/export.csv", query_string={"period": bad}).status_code == 400
    )


def test_figures_stay_right_after_retention_deletes_unconverted_visits(client, auth, shop):
    owner, vendor = shop
    seed_sources(vendor)
    for n in range(20):
        add_visit(vendor, days_ago(10), source="instagram", campaign="spring", session_id=f"u{n}")
    auth.login(owner.email)
    before = text_of(client.get(PAGE))
    # What the retention job does: unconverted visits go, the daily counts stay.
    db.session.execute(sa.delete(ShopReferral).where(ShopReferral.converted_at.is_(None)))
    db.session.flush()
    after = text_of(client.get(PAGE))
    for id in ("total-visits", "total-conversions", "total-rate", "total-revenue", "total-ltv"):
        assert stat(after, id) == stat(before, id)
    assert table_row(after, "instagram", "spring") == table_row(before, "instagram", "spring")


def test_csv_has_every_row_and_is_safe_in_a_spreadsheet(client, auth, shop):
    owner, vendor = shop
    seed_sources(vendor)
    add_day(vendor, days_ago(4), source='=HYPERLINK("http://evil")', campaign="+x", visits=3)
    auth.login(owner.email)
    response = client.get("/vendor/referrals/export.csv?period=3m")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"referrals-{vendor.slug}-3m.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(CSV_HEADER)
    assert rows[0][4:] == ["Conversion rate", "Orders", "Revenue", "Lifetime value"]
    assert ["instagram", "spring", "100", "4", "0.0400", "5", "200.00", "50.00"] in rows
    assert ["", "", "10", "0", "0.0000", "0", "0.00", ""] in rows
    assert ['\'=HYPERLINK("http://evil")', "'+x", "3", "0", "0.0000", "0", "0.00", ""] in rows
    assert len(rows) == 5


def test_link_builder_adds_utm_parameters_and_its_qr_code(client, auth, shop, app):
    owner, vendor = shop
    auth.login(owner.email)
    response = client.get(
        "/vendor/referrals/link",
        query_string={"utm_source": " instagram ", "utm_medium": "", "utm_campaign": "spring sale"},
        headers=HX,
    )
    assert response.status_code == 200
    fragment = text_of(response)
    public = app.config["PUBLIC_URL"].rstrip("/")
    expected = f"{public}/r/{vendor.referral_code}?utm_source=instagram&utm_campaign=spring+sale"
    assert f'value="{expected}"' in fragment
    assert "<svg" in fragment and 'class="qr-code"' in fragment and "style=" not in fragment
    assert "/vendor/referrals/qr.png?utm_source=instagram&utm_campaign=spring+sale" in fragment

    png = client.get("/vendor/referrals/qr.png?utm_source=instagram&utm_campaign=spring+sale")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (
        'filename="referral-' + vendor.referral_code + '-springsale.png"'
        in png.headers["Content-Disposition"]
    )
    svg = client.get("/vendor/referrals/qr.svg?utm_source=instagram")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    # Another link, another code: the QR encodes what the builder shows.
    assert client.get("/vendor/referrals/qr.png").data != png.data

    # Without JavaScript the builder's form lands back on the page.
    assert client.get("/vendor/referrals/link?utm_source=x").status_code == 302


def test_link_builder_refuses_a_value_too_long_for_the_table(client, auth, shop):
    owner, _vendor = shop
    auth.login(owner.email)
    response = client.get(
        "/vendor/referrals/link", query_string={"utm_campaign": "c" * 101}, headers=HX
    )
    fragment = text_of(response)
    assert "The campaign can have at most 100 characters." in fragment
    assert "c" * 101 not in fragment.split('id="link-problem"')[1]
    assert (
        client.get("/vendor/referrals/qr.svg", query_string={"utm_source": "s" * 101}).status_code
        == 400
    )


def test_owner_regenerates_the_code_and_old_visits_keep_theirs(client, auth, shop):
    owner, vendor = shop
    old = vendor.referral_code
    seed_sources(vendor)
    auth.login(owner.email)
    before = text_of(client.get(PAGE))
    assert client.post("/vendor/referrals/code", csrf=False).status_code == 400
    assert db.session.get(Vendor, vendor.id).referral_code == old

    response = client.post("/vendor/referrals/code")
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.get(Vendor, vendor.id).referral_code
    assert new and new != old
    codes = set(db.session.scalars(sa.select(ShopReferral.referral_code)))
    assert codes == {old}
    page = text_of(client.get(PAGE))
    assert f"/r/{new}" in page and f"/r/{old}" not in page
    assert f"Your new referral code is {new}" in page
    assert stat(page, "total-visits") == stat(before, "total-visits")
    # The old code no longer names the shop (the redirect looks codes up on vendors).
    assert db.session.scalar(sa.select(Vendor).where(Vendor.referral_code == old)) is None


def test_staff_see_the_page_but_cannot_change_the_code(client, auth, shop):
    _, vendor = shop
    seed_sources(vendor)
    staff = accounts.create_user("staff@example.com", PASSWORD, "vendor")
    db.session.add(VendorMember(vendor_id=vendor.id, user_id=staff.id, role="staff"))
    db.session.flush()
    old = vendor.referral_code
    auth.login(staff.email)
    page = text_of(client.get(PAGE))
    assert stat(page, "total-visits") == "160"
    assert "New code" not in page
    response = client.post("/vendor/referrals/code")
    assert response.status_code == 403
    assert "Only the shop's owner" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).referral_code == old


def test_a_vendor_sees_only_its_own_referrals(client, auth, shop, rival):
    _, vendor = shop
    rival_owner, rival_shop = rival
    seed_sources(vendor)
    add_day(rival_shop, days_ago(1), source="rivalsource", visits=3)
    auth.login(rival_owner.email)
    guesses = [
        "",
        f"?shop_id={vendor.id}",
        f"?vendor_id={vendor.id}",
        f"?shop={vendor.slug}",
        f"?code={vendor.referral_code}",
    ]
    for guess in guesses:
        page = text_of(client.get(PAGE + guess))
        assert ">rivalsource<" in page and ">instagram<" not in page, guess
        assert vendor.referral_code not in page and stat(page, "total-visits") == "3"
    exported = client.get(f"/vendor/referrals/export.csv?period=all&shop_id={vendor.id}")
    assert "instagram" not in exported.get_data(as_text=True)
    built = text_of(client.get(f"/vendor/referrals/link?shop_id={vendor.id}", headers=HX))
    assert rival_shop.referral_code in built and vendor.referral_code not in built


@pytest.mark.parametrize("maker", [make_customer, make_driver, make_admin])
def test_other_roles_are_refused(client, auth, shop, maker):
    _owner, vendor = shop
    user = maker()
    auth.login(user.email)
    for path in [
        PAGE,
        "/vendor/referrals/link",
        "/vendor/referrals/qr.png",
        "/vendor/referrals/qr.svg",
        "/vendor/referrals/export.csv",
    ]:
        assert client.get(path).status_code == 403, path
    assert client.post("/vendor/referrals/code").status_code == 403
    assert db.session.get(Vendor, vendor.id).referral_code == vendor.referral_code


def test_anonymous_visitors_are_sent_to_sign_in(client, shop):
    for path in [PAGE, "/vendor/referrals/qr.png", "/vendor/referrals/export.csv"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.post("/vendor/referrals/code").status_code in (302, 400)


def test_an_empty_shop_shows_what_to_do(client, auth, shop):
    owner, vendor = shop
    auth.login(owner.email)
    page = text_of(client.get(PAGE))
    assert "No visits through your link in this period" in page
    assert "Share your link or its QR code" in page
    assert stat(page, "total-visits") == "0" and stat(page, "total-rate") == "—"
    assert "data-chart" not in page
    assert f"/r/{vendor.referral_code}" in page


def test_a_shop_without_a_code_can_make_one(client, auth, shop):
    owner, vendor = shop
    vendor.referral_code = None
    db.session.flush()
    auth.login(owner.email)
    page = text_of(client.get(PAGE))
    assert "Your shop has no referral code yet" in page
    assert client.get("/vendor/referrals/qr.png").status_code == 404
    client.post("/vendor/referrals/code")
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).referral_code


def test_periods_are_whole_months_up_to_the_running_one():
    from datetime import date

    today = date(2026, 12, 4)
    recent = report_period("3m", on=today)
    assert (recent.start, recent.end) == (date(2026, 10, 1), date(2027, 1, 1))
    year = report_period("12m", on=today)
    assert (year.start, year.end) == (date(2026, 1, 1), date(2027, 1, 1))
    month = report_period("2026-02", on=today)
    assert (month.start, month.end, month.label) == (date(2026, 2, 1), date(2026, 3, 1), "Feb 2026")
    assert report_period("", on=today).key == "3m"
    assert report_period("all", on=today).start is None
    assert report_period("all", on=today).end == date(2027, 1, 1)


def test_the_sums_the_page_reads_follow_every_write_of_the_daily_rows(db_session, shop):
    """The triggers keep referral_monthly_stats and referral_shop_days equal to the daily rows'
    sums through inserts, the counting's upserts, updates and deletes."""
    _, vendor = shop
    upsert = sa.text(
        "INSERT INTO referral_daily_stats AS d (shop_id, day, utm_source, utm_medium,"
        " utm_campaign, visits, conversions, orders, revenue)"
        " VALUES (:shop, :day, :source, :medium, '', 1, :conversions, 0, :revenue)"
        " ON CONFLICT (shop_id, day, utm_source, utm_medium, utm_campaign) DO UPDATE"
        " SET visits = d.visits + 1, conversions = d.conversions + EXCLUDED.conversions,"
        " revenue = d.revenue + EXCLUDED.revenue"
    )
    for n in range(6):
        db.session.execute(
            upsert,
            {
                "shop": vendor.id,
                "day": days_ago(n % 2),
                "source": "ig",
                "medium": "social" if n % 3 else "email",  # two media, one row on the page
                "conversions": n % 2,
                "revenue": "2.50",
            },
        )
    add_day(vendor, days_ago(40), source="ig", visits=4, revenue="1.00")
    db.session.execute(
        sa.text("UPDATE referral_daily_stats SET revenue = revenue + 1 WHERE day = :day"),
        {"day": days_ago(40)},
    )
    db.session.execute(
        sa.text("DELETE FROM referral_daily_stats WHERE day = :day AND utm_medium = 'email'"),
        {"day": days_ago(0)},
    )

    def sums(sql):
        return db.session.execute(sa.text(sql), {"shop": vendor.id}).one()

    columns = "sum(visits), sum(conversions), sum(orders), sum(revenue)"
    daily = sums(f"SELECT {columns} FROM referral_daily_stats WHERE shop_id = :shop")
    assert daily[0] > 0
    assert sums(f"SELECT {columns} FROM referral_monthly_stats WHERE shop_id = :shop") == daily
    assert sums(f"SELECT {columns} FROM referral_shop_days WHERE shop_id = :shop") == daily
    by_month = (
        "SELECT count(*) FROM (SELECT date_trunc('month', day), utm_source, utm_campaign,"
        f" {columns} FROM referral_daily_stats WHERE shop_id = :shop GROUP BY 1, 2, 3"
        " EXCEPT SELECT month, utm_source, utm_campaign, visits, conversions, orders, revenue"
        " FROM referral_monthly_stats WHERE shop_id = :shop) differ"
    )
    assert sums(by_month)[0] == 0


def test_the_table_keeps_to_the_sources_with_most_visits_and_the_csv_has_all(client, auth, shop):
    owner, vendor = shop
    for n in range(TABLE_ROWS + 2):
        add_day(vendor, days_ago(1), source=f"src{n:03d}", visits=1000 - n)
    auth.login(owner.email)
    page = text_of(client.get(PAGE))
    assert ">src000<" in page and f">src{TABLE_ROWS - 1:03d}<" in page
    assert f">src{TABLE_ROWS:03d}<" not in page  # the fewest visits are left out...
    assert 'id="more-sources"' in page
    assert stat(page, "total-visits") == f"{sum(1000 - n for n in range(TABLE_ROWS + 2)):,}"
    rows = list(csv.reader(io.StringIO(client.get("/vendor/referrals/export.csv").text)))
    assert len(rows) == TABLE_ROWS + 3  # ...and the CSV has them, under its header


def test_lifetime_value_follows_each_converted_visit(client, auth, shop):
    """A visit's running total changes with its orders and refunds (the attribution code updates
    shop_referrals); the page's lifetime value follows, by the month the visit converted."""
    owner, vendor = shop
    add_day(vendor, days_ago(2), source="ig", visits=3, conversions=2)
    first = add_visit(
        vendor,
        days_ago(3),
        source="ig",
        converted_on=days_ago(2),
        lifetime_value="10.00",
        session_id="a",
    )
    add_visit(
        vendor,
        days_ago(3),
        source="ig",
        converted_on=days_ago(2),
        lifetime_value="30.00",
        session_id="b",
    )
    unconverted = add_visit(vendor, days_ago(3), source="ig", session_id="c")
    auth.login(owner.email)
    assert stat(text_of(client.get(PAGE)), "total-ltv") == "$20.00"

    first.lifetime_value += Decimal("20.00")  # another order of that customer
    db.session.flush()
    assert stat(text_of(client.get(PAGE)), "total-ltv") == "$30.00"

    # It converts too (later): its value counts from the month it converted.
    unconverted.converted_at, unconverted.lifetime_value = at_noon(days_ago(1)), Decimal("60")
    db.session.flush()
    page = text_of(client.get(PAGE))
    assert stat(page, "total-ltv") == "$40.00"  # (30 + 30 + 60) / 3
    assert table_row(page, "ig", "(no campaign)")[-1] == "$40.00"

    db.session.delete(first)  # a converted visit gone (retention never does this)
    db.session.flush()
    assert stat(text_of(client.get(PAGE)), "total-ltv") == "$45.00"
