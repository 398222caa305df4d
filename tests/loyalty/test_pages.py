"""The points pages over HTTP: the customer's own page, the admins' lookup, customer page and
liability, who may open them, and the history's "load more"."""

from __future__ import annotations

import html as html_text
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from portal.clock import utcnow
from portal.customers.services import customer_for_user
from portal.extensions import db
from portal.loyalty import points, statement
from portal.orders import services as orders
from tests.factories import MAKERS, make_admin, make_customer
from tests.loyalty.helpers import D, admin, moment, pay, place, shop

HX = {"HX-Request": "true"}


@pytest.fixture
def vendor(db_session):
    return shop()


@pytest.fixture
def me(db_session):
    return make_customer(email="points-me@example.com", full_name="Petra Points")


def window_closed(order):
    days = current_app.config["ORDER_AUTO_COMPLETE_DAYS"] + current_app.config["RETURN_WINDOW_DAYS"]
    return order.paid_at + timedelta(days=days)


def text_of(html: str) -> str:
    """The page's words, tags dropped and spaces folded, so assertions read like the page."""
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return text_of(html[start : html.index("</article>", start)])


def history_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="points-row-([0-9a-f-]+)"', html)


def load_more_url(html: str) -> str | None:
    found = re.search(r'<tr class="load-more" id="history-more">.*?hx-get="([^"]+)"', html, re.S)
    return found[1].replace("&amp;", "&") if found else None


# --- the customer's page -------------------------------------------------------------------------


def test_the_customer_sees_balance_tier_pending_held_expiring_and_history(client, auth, vendor, me):
    buyer = customer_for_user(me)
    now = utcnow()
    # Expiring in ten days: an adjustment made twelve months (less ten days) ago.
    points.adjust(
        buyer.id, 300, "Goodwill for a late delivery", actor=admin(), at=now - timedelta(days=355)
    )
    points.adjust(buyer.id, 934, "Welcome points", actor=admin(), at=now - timedelta(days=3))
    paid = pay(place(vendor, buyer, price="42.50", at=now - timedelta(hours=2)))
    points.hold_external(buyer.id, 200, at=now)
    auth.login(me.email)

    html = client.get("/account/points/").get_data(as_text=True)
    assert "1,234 points" in section(html, "points-balance")
    assert "Worth $12.34 at checkout" in section(html, "points-balance")
    tier = section(html, "points-tier")
    assert "Bronze" in tier and "1,000 more points earned reaches Silver" in tier
    assert '<progress value="0" max="100" aria-label="Progress to Silver">' in html
    pending = section(html, "points-pending")
    available = points.pending_earns(buyer.id)[0].available_at
    assert "42 points" in pending and f"order {paid.label}" in pending
    assert available.strftime("%d %b %Y") in pending
    assert "200 points" in section(html, "points-held")
    expiring = section(html, "points-expiring")
    assert "300 points" in expiring
    assert (now - timedelta(days=355) + timedelta(days=365)).strftime("%d %b %Y") in expiring

    history = text_of(html[html.index('id="points-history"') :])
    assert "Adjusted by the marketplace +934 Welcome points" in history
    assert "+300" in history and "1,234" in history
    assert "adjusted" not in re.findall(r'badge-[a-z]+">([^<]*)<', html)  # the type in words


def test_the_top_tier_says_so_and_a_spend_shows_with_its_order(client, auth, vendor, me):
    buyer = customer_for_user(me)
    big = pay(place(vendor, buyer, price="5000.00", at=moment()))
    closes = window_closed(big)
    points.settle_due(closes)
    spend = place(vendor, buyer, price="20.00", discount="10.00", with_points=True, at=closes)
    pay(spend)
    auth.login(me.email)

    html = client.get("/account/points/").get_data(as_text=True)
    tier = section(html, "points-tier")
    assert "Gold is the top tier" in tier and "Earns 1.5\u00d7 points" in tier
    assert '<progress value="100" max="100" aria-label="Top tier">' in html
    history = text_of(html[html.index('id="points-history"') :])
    assert (
        f"Spent -1,000 Redeemed on order {spend.label} {spend.label} · {vendor.name} 4,000"
        in history
    )
    assert f"Earned +5,000 Order's return window closed {big.label}" in history


def test_an_empty_account_says_there_are_no_points_yet(client, auth, me):
    auth.login(me.email)
    html = client.get("/account/points/").get_data(as_text=True)
    assert "0 points" in section(html, "points-balance")
    assert "No points yet" in html and "Load more" not in html
    assert "Nothing expires in the next 30 days" in html


def test_the_dashboard_and_the_navigation_link_the_points_page(client, auth, me):
    points.adjust(customer_for_user(me).id, 250, "Hello", actor=make_admin())
    auth.login(me.email)
    html = client.get("/account/").get_data(as_text=True)
    card = section(html, "points-card")
    assert "250 points" in card and "Worth $2.50" in card
    assert html.count('href="/account/points/"') >= 2  # the card and the tab bar


def test_a_customer_sees_only_their_own_points(client, auth, me):
    other = make_customer(email="points-other@example.com")
    points.adjust(customer_for_user(other).id, 777, "Other's secret reason", actor=make_admin())
    points.adjust(customer_for_user(me).id, 5, "Mine", actor=make_admin())
    auth.login(me.email)
    for path in (
        "/account/points/",
        f"/account/points/?customer_id={customer_for_user(other).id}",
    ):
        words = text_of(client.get(path).get_data(as_text=True))  # ids could hold "777"
        assert "Mine" in words and "Other's secret reason" not in words and "777" not in words


# --- who may open what ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["vendor", "driver", "admin"])
def test_other_roles_cannot_open_the_customers_points_page(client, auth, role):
    auth.login(MAKERS[role]().email)
    assert client.get("/account/points/").status_code == 403


@pytest.mark.parametrize("role", ["vendor", "driver", "customer"])
def test_only_admins_open_the_admin_points_pages(client, auth, me, role):
    target = customer_for_user(me).id
    auth.login(MAKERS[role]().email)
    for path in ("/admin/points/", f"/admin/points/customers/{target}", "/admin/points/?q=a"):
        assert client.get(path).status_code == 403, path
        assert client.get(path, headers=HX).status_code == 403, path


def test_anonymous_visitors_are_sent_to_sign_in(client, me):
    target = customer_for_user(me).id
    for path in ("/account/points/", "/admin/points/", f"/admin/points/customers/{target}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- load more -----------------------------------------------------------------------------------


def test_load_more_pages_through_every_row_once_even_when_rows_share_a_moment(client, auth, me):
    buyer = customer_for_user(me)
    giver = make_admin()
    same = utcnow() - timedelta(days=1)
    for n in range(25):  # one moment, as a settlement writes its rows
        points.adjust(buyer.id, n + 1, f"batch {n}", actor=giver, at=same)
    for n in range(20):
        points.adjust(buyer.id, 1, f"single {n}", actor=giver, at=same + timedelta(minutes=n + 1))
    auth.login(me.email)

    html = client.get("/account/points/").get_data(as_text=True)
    seen = history_ids(html)
    assert len(seen) == 20
    url = load_more_url(html)
    pages = 1
    while url:
        response = client.get(url, headers=HX)
        fragment = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in fragment  # only the rows
        assert "HX-Request" in response.headers["Vary"]
        seen += history_ids(fragment)
        url = load_more_url(fragment)
        pages += 1
    assert pages == 3 and len(seen) == 45 == len(set(seen))

    # Without JavaScript the link opens the page at the older rows, with a way back.
    older = client.get(load_more_url(html)).get_data(as_text=True)
    assert "Back to the newest" in older and history_ids(older) == seen[20:40]


def test_a_malformed_cursor_shows_the_newest_rows(client, auth, me):
    points.adjust(customer_for_user(me).id, 3, "Only row", actor=make_admin())
    auth.login(me.email)
    for value in ("nonsense", "2026-13-01_x", "x" * 500):
        response = client.get("/account/points/", query_string={"before": value}, headers=HX)
        assert response.status_code == 200 and "Only row" in response.get_data(as_text=True)


# --- the admin's pages ---------------------------------------------------------------------------


def test_admin_finds_a_customer_by_email_or_name_as_they_type(client, auth, me):
    make_customer(email="someone-else@example.com", full_name="Oscar Other")
    auth.login(make_admin().email)
    for query in ("points-me@", "PETRA", "tra Poi"):
        fragment = client.get("/admin/points/", query_string={"q": query}, headers=HX)
        text = fragment.get_data(as_text=True)
        assert "<html" not in text and "Petra Points" in text and "Oscar Other" not in text
        assert "1 customer ·" in text_of(text)
    page = client.get("/admin/points/?q=nobody-at-all").get_data(as_text=True)
    assert "No customer matches “nobody-at-all”" in page
    assert 'hx-trigger="search, keyup changed delay:250ms"' in page


def test_admin_customer_page_shows_ledger_pending_holds_and_shortfalls(client, auth, vendor, me):
    buyer = customer_for_user(me)
    order = pay(place(vendor, buyer, price="100.00", at=moment()))
    closes = window_closed(order)
    points.settle_due(closes)
    pay(place(vendor, buyer, price="10.00", discount="0.80", with_points=True, at=closes))
    orders.refund_order(order, D("100.00"), "re-1", at=closes + timedelta(hours=1))
    waiting = pay(place(vendor, buyer, price="30.00", at=utcnow() - timedelta(hours=1)))
    points.adjust(buyer.id, 50, "Sorry about the refund", actor=admin())
    hold = points.hold_external(buyer.id, 30, at=utcnow())
    auth.login(make_admin().email)

    html = client.get(f"/admin/points/customers/{buyer.id}").get_data(as_text=True)
    assert "Petra Points" in html and "points-me@example.com" in html
    assert "30 points" in section(html, "points-pending") and waiting.label in html
    shortfalls = text_of(
        html[html.index('id="points-shortfalls"') : html.index('id="points-history"')]
    )
    assert "80" in shortfalls and order.label in shortfalls and "points already spent" in shortfalls
    history = text_of(html[html.index('id="points-history"') :])
    assert "Taken back (refund) -20" in history
    assert f'href="/admin/orders/{order.id}/refund"' in html
    holds = text_of(html[html.index('id="points-holds"') : html.index('id="points-shortfalls"')])
    assert f"30 An outside storefront's hold {hold.reference}, no order yet" in holds


def test_admin_sees_the_outstanding_liability_by_month_of_expiry(client, auth, db_session):
    giver = make_admin()
    a = customer_for_user(make_customer())
    b = customer_for_user(make_customer())
    now = utcnow()
    points.adjust(a.id, 1250, "one", actor=giver, at=now - timedelta(days=40))
    points.adjust(b.id, 399, "two", actor=giver, at=now - timedelta(days=40))
    points.adjust(b.id, 1, "three", actor=giver, at=now - timedelta(days=200))
    auth.login(giver.email)

    html = client.get("/admin/points/").get_data(as_text=True)
    total = section(html, "liability-total")
    assert "$16.50" in total and "1,650 spendable points" in total
    months = text_of(html[html.index('id="liability-months"') :])
    late = (now - timedelta(days=40)).replace(year=now.year + 1)
    early = (now - timedelta(days=200)).replace(year=now.year + 1)
    assert f"{early:%b %Y} 1 $0.01" in months
    assert f"{late:%b %Y} 1,649 $16.49" in months


def test_the_audit_trail_names_an_adjustment_and_links_the_customers_points(client, auth, me):
    giver = make_admin()
    buyer = customer_for_user(me)
    points.adjust(buyer.id, 120, "Birthday", actor=giver)
    auth.login(giver.email)
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Points adjusted" in html
    assert f'href="/admin/points/customers/{buyer.id}"' in html


def test_admin_adjusts_from_the_customers_points_page_and_the_figures_follow(
    client, verified_admin, me
):
    buyer = customer_for_user(me)
    page = client.get(f"/admin/points/customers/{buyer.id}").get_data(as_text=True)
    assert 'id="points-adjust"' in page and 'hx-trigger="toast from:body"' in page
    assert f'hx-post="/admin/customers/{buyer.id}/points/adjust"' in page
    answer = client.post(
        f"/admin/customers/{buyer.id}/points/adjust",
        data={"points": "450", "reason": "Broken jar"},
        headers=HX,
    )
    assert answer.status_code == 200 and "toast" in answer.headers["HX-Trigger"]
    # What the figures' own request (after the toast) gets: the new balance and row, no page.
    figures = client.get(
        f"/admin/points/customers/{buyer.id}", headers=HX | {"HX-Target": "points-figures"}
    )
    assert "<html" not in figures.get_data(as_text=True)
    assert "HX-Target" in figures.headers["Vary"]
    figures = figures.get_data(as_text=True)
    assert 'id="points-figures"' in figures
    assert "450 points" in section(figures, "points-balance")
    assert "+450 Broken jar" in text_of(figures)
    assert 'id="points-adjust"' not in figures  # the form keeps its own state


def test_a_history_page_reads_its_orders_and_shops_at_once_not_row_by_row(vendor, me):
    buyer = customer_for_user(me)
    for n in range(5):
        pay(place(vendor, buyer, price="10.00", at=moment(n)))
    points.settle_due(moment(200))
    db.session.expire_all()
    page = statement.history_page(buyer.id)
    statements = []

    def count(*args):
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        labels = {(row.order.label, row.order.vendor.name) for row in page.rows}
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(page.rows) == 5 and len(labels) == 5
    assert statements == []
