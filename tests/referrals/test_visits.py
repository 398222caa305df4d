"""``/r/<code>``: the first-party cookie, first touch, robots and prefetches, where it sends."""

from __future__ import annotations

import pytest

from portal.config import TestConfig
from portal.extensions import db
from tests.orders.helpers import established_shop
from tests.referrals.helpers import BROWSER, follow, stats, visitor_of, visits


@pytest.fixture
def shop(db_session):
    return established_shop()


def test_a_first_visit_sets_a_signed_lax_cookie_records_one_row_and_counts_it(client, app, shop):
    response = follow(
        client, shop.referral_code, "utm_source=insta&utm_medium=social&utm_campaign=fall"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/shops/{shop.slug}"
    assert response.headers["Cache-Control"] == "no-store"
    [set_cookie] = response.headers.getlist("Set-Cookie")
    assert set_cookie.startswith(app.config["REFERRAL_COOKIE_NAME"] + "=")
    assert "SameSite=Lax" in set_cookie and "HttpOnly" in set_cookie
    assert f"Max-Age={30 * 24 * 3600}" in set_cookie
    visitor = visitor_of(client, app)
    assert visitor and visitor not in set_cookie  # signed, not the bare id
    [row] = visits(shop)
    assert (row.session_id, row.customer_id, row.referral_code) == (
        visitor,
        None,
        shop.referral_code,
    )
    assert (row.utm_source, row.utm_medium, row.utm_campaign) == ("insta", "social", "fall")
    [stat] = stats(shop)
    assert (stat.utm_source, stat.utm_medium, stat.utm_campaign, stat.visits) == (
        "insta",
        "social",
        "fall",
        1,
    )
    assert stat.day == row.first_visit_at.date()


def test_the_cookie_is_secure_where_the_session_cookie_is(client, app, shop):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = follow(client, shop.referral_code)
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_revisit_keeps_the_first_touch_and_is_not_counted_again(client, app, shop):
    follow(client, shop.referral_code, "utm_source=insta")
    [first] = visits(shop)
    again = follow(client, shop.referral_code, "utm_source=newsletter&utm_campaign=later")

    assert again.status_code == 302 and "Set-Cookie" not in again.headers
    [row] = visits(shop)
    assert (row.id, row.first_visit_at, row.utm_source, row.utm_campaign) == (
        first.id,
        first.first_visit_at,
        "insta",
        None,
    )
    assert [(s.utm_source, s.visits) for s in stats(shop)] == [("insta", 1)]


def test_the_code_is_read_in_any_case(client, shop):
    assert follow(client, shop.referral_code.lower()).headers["Location"] == f"/shops/{shop.slug}"
    assert len(visits(shop)) == 1


def test_one_browser_visiting_two_shops_has_one_row_per_shop(client, app, shop):
    other = established_shop()
    follow(client, shop.referral_code)
    visitor = visitor_of(client, app)
    response = follow(client, other.referral_code)

    # The new shop's first touch renews the cookie (same id) to that visit's whole window.
    assert "Set-Cookie" in response.headers and visitor_of(client, app) == visitor
    assert [r.session_id for r in visits(shop)] == [visitor]
    assert [r.session_id for r in visits(other)] == [visitor]


def test_a_forged_cookie_is_ignored_and_replaced(client, app, shop):
    client.set_cookie(app.config["REFERRAL_COOKIE_NAME"], "someone-elses-id-1234567890")
    response = follow(client, shop.referral_code)
    visitor = visitor_of(client, app)
    assert "Set-Cookie" in response.headers and visitor != "someone-elses-id-1234567890"
    assert [r.session_id for r in visits(shop)] == [visitor]


@pytest.mark.parametrize(
    "agent",
    [
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "facebookexternalhit/1.1",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "curl/8.4.0",
        "",
    ],
)
def test_robots_are_sent_on_but_not_counted(client, app, shop, agent):
    response = follow(client, shop.referral_code, "utm_source=x", **{"User-Agent": agent})
    assert response.status_code == 302 and response.headers["Location"] == f"/shops/{shop.slug}"
    assert "Set-Cookie" not in response.headers
    assert visits(shop) == [] and stats(shop) == []


def test_the_robot_list_is_configuration(client, app, shop):
    app.config["REFERRAL_BOT_USER_AGENTS"] = ("iphone",)
    try:
        follow(client, shop.referral_code)
        assert visits(shop) == []
        follow(client, shop.referral_code, **{"User-Agent": "Googlebot/2.1"})
    finally:
        app.config["REFERRAL_BOT_USER_AGENTS"] = TestConfig.REFERRAL_BOT_USER_AGENTS
    assert len(visits(shop)) == 1  # Googlebot is not on this list


@pytest.mark.parametrize(
    "header",
    [("Sec-Purpose", "prefetch"), ("Sec-Purpose", "prefetch;prerender"), ("Purpose", "prefetch")],
)
def test_prefetches_are_sent_on_but_not_counted(client, shop, header):
    response = follow(client, shop.referral_code, **{header[0]: header[1]})
    assert response.status_code == 302 and "Set-Cookie" not in response.headers
    assert visits(shop) == []
    # The person's own click afterwards is the visit.
    follow(client, shop.referral_code)
    assert len(visits(shop)) == 1


def test_unknown_codes_go_home_without_an_error_or_a_cookie(client, shop):
    for code in ("NOSUCHCODE", "x" * 300, "%E2%98%83"):
        response = follow(client, code)
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert "Set-Cookie" not in response.headers
    assert visits() == []


@pytest.mark.parametrize("status", ["suspended", "pending"])
def test_a_shop_not_active_goes_home(client, shop, status):
    shop.status = status
    db.session.flush()
    assert follow(client, shop.referral_code).headers["Location"] == "/"
    assert visits() == []


def test_an_old_code_stops_counting_once_regenerated(client, shop):
    from portal.vendors.services import new_referral_code

    old = shop.referral_code
    shop.referral_code = new_referral_code()
    db.session.flush()
    assert follow(client, old).headers["Location"] == "/"
    assert visits() == []


@pytest.fixture
def storefronts(app):
    app.config["REFERRAL_REDIRECT_HOSTS"] = ("shop.example.com",)
    yield
    app.config["REFERRAL_REDIRECT_HOSTS"] = ()


def test_to_an_allowed_storefront_appends_the_visitor_id(client, app, shop, storefronts):
    response = follow(
        client,
        shop.referral_code,
        "to=https%3A%2F%2Fshop.example.com%2Fcart%3Fa%3D1%26referral_session%3Dforged%23top",
    )
    visitor = visitor_of(client, app)
    assert response.headers["Location"] == (
        f"https://shop.example.com/cart?a=1&referral_session={visitor}"
    )
    assert len(visits(shop)) == 1


@pytest.mark.parametrize(
    "to",
    [
        "https://evil.example.net/",
        "https://shop.example.com.evil.net/",
        "https://user@evil.net@shop.example.com/",
        "https://evil.net\\@shop.example.com/",
        "javascript:alert(1)//shop.example.com",
        "//shop.example.com/",
        "https://shop.example.com:99999/",
        "ftp://shop.example.com/",
    ],
)
def test_other_hosts_are_ignored(client, shop, storefronts, to):
    from urllib.parse import quote

    response = follow(client, shop.referral_code, "to=" + quote(to, safe=""))
    assert response.headers["Location"] == f"/shops/{shop.slug}"
    assert len(visits(shop)) == 1  # the visit still counts


def test_no_storefront_is_allowed_unless_configured(client, shop):
    response = follow(client, shop.referral_code, "to=https%3A%2F%2Fshop.example.com%2F")
    assert response.headers["Location"] == f"/shops/{shop.slug}"


def test_a_robot_sent_to_a_storefront_gets_no_visitor_id(client, shop, storefronts):
    response = follow(
        client,
        shop.referral_code,
        "to=https%3A%2F%2Fshop.example.com%2F",
        **{"User-Agent": "Googlebot"},
    )
    assert response.headers["Location"] == "https://shop.example.com/"


def test_long_utm_values_are_cut_to_the_column(client, shop):
    follow(client, shop.referral_code, "utm_source=" + "s" * 500 + "&utm_medium=%20%20")
    [row] = visits(shop)
    assert row.utm_source == "s" * 100 and row.utm_medium is None
    [stat] = stats(shop)
    assert (stat.utm_source, stat.utm_medium) == ("s" * 100, "")


def test_browser_constant_is_a_browser(app):
    with app.app_context():
        from portal.referrals.services import is_robot

        assert not is_robot(BROWSER)


def test_a_returning_visitor_is_answered_without_the_database(client, app, shop):
    from sqlalchemy import event

    code, slug = shop.referral_code, shop.slug
    follow(client, code)
    statements = []
    engine = db.session.get_bind()

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = follow(client, code, "utm_source=again")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 302 and response.headers["Location"] == f"/shops/{slug}"
    assert response.headers["Cache-Control"] == "no-store"
    assert "nosniff" in response.headers["X-Content-Type-Options"]
    assert statements == []
    assert len(visits(shop)) == 1


def test_a_returning_visitor_to_a_storefront_keeps_their_id(client, app, shop, storefronts):
    follow(client, shop.referral_code)
    visitor = visitor_of(client, app)
    response = follow(client, shop.referral_code, "to=https%3A%2F%2Fshop.example.com%2Fp%3Fx%3D1")
    assert response.headers["Location"] == (
        f"https://shop.example.com/p?x=1&referral_session={visitor}"
    )


def test_a_code_changed_reaches_returning_visitors_once_the_cache_expires(client, app, shop):
    follow(client, shop.referral_code)
    old = shop.referral_code
    shop.status = "suspended"
    db.session.flush()
    # Within REFERRAL_CODE_CACHE_SECONDS a returning visitor is still sent to the shop's page...
    assert follow(client, old).headers["Location"] == f"/shops/{shop.slug}"
    # ... a first visitor never is.
    assert follow(app.test_client(), old).headers["Location"] == "/"
    app.config["REFERRAL_CODE_CACHE_SECONDS"] = 0
    try:
        app.extensions.pop("portal.referral-codes", None)
        assert follow(client, old).headers["Location"] == "/"
    finally:
        app.config["REFERRAL_CODE_CACHE_SECONDS"] = 30


def test_a_cookie_claiming_a_shop_past_the_window_goes_to_the_database(client, app, shop):
    from portal.referrals import cookie

    follow(client, shop.referral_code)
    visitor = visitor_of(client, app)
    with app.test_request_context():
        stale = cookie._serializer().dumps({"v": visitor, "s": {shop.id.hex: 1}})
    client.set_cookie(app.config["REFERRAL_COOKIE_NAME"], stale)
    response = follow(client, shop.referral_code)
    # The view found the first touch there (nothing new) and renews the cookie's claim.
    assert "Set-Cookie" in response.headers
    assert len(visits(shop)) == 1 and sum(s.visits for s in stats(shop)) == 1
