"""Over real HTTP (a new app context per request, as under gunicorn): the user loader reads the
session, the user and the vendor's shop and role in one statement, which the view and the nav then
share; ending the session still signs the cookie out."""

from __future__ import annotations

import re

import requests

from tests.factories import make_vendor
from tests.http_browser import signed_in
from tests.vendors.test_query_counts import statements


def _flat(statement: str) -> str:
    return " ".join(statement.split())


def test_the_dashboard_learns_who_asks_in_one_statement(live_server, committed):
    make_vendor(email="owner@example.com", shop_name="Lamp & Loom")
    committed.commit()
    browser = signed_in(live_server, "owner@example.com")
    browser.get(live_server + "/vendor/")  # warm: the first request of a session may differ

    with statements() as sent:
        response = browser.get(live_server + "/vendor/", allow_redirects=False)

    assert response.status_code == 200
    page = response.text
    assert "owner of Lamp &amp; Loom" in page  # the nav's role and shop name
    assert 'href="/vendor/staff/"' in page  # the owner-only link
    who = [s for s in map(_flat, sent) if "user_sessions" in s or "vendor_members" in s]
    assert len(who) == 1, sent
    assert "FROM users JOIN user_sessions" in who[0] and "vendor_members" in who[0]
    assert len(sent) == 2, "\n\n".join(sent)  # who asks; the dashboard with its first steps


def test_the_orders_badge_reads_only_its_count(live_server, committed):
    make_vendor(email="owner@example.com")
    committed.commit()
    browser = signed_in(live_server, "owner@example.com")
    with statements() as sent:
        response = browser.get(live_server + "/vendor/orders/badge")
    assert response.status_code == 200
    assert len(sent) == 2, "\n\n".join(sent)


def test_a_signed_out_cookie_opens_no_vendor_page(live_server, committed):
    make_vendor(email="owner@example.com")
    committed.commit()
    browser = signed_in(live_server, "owner@example.com")
    copy = requests.Session()
    copy.cookies.update(browser.cookies)
    assert copy.get(live_server + "/vendor/", allow_redirects=False).status_code == 200

    page = browser.get(live_server + "/vendor/").text  # the nav's sign-out form
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert (
        browser.post(live_server + "/logout", data={"csrf_token": token}, allow_redirects=False)
        .headers["Location"]
        .endswith("/login")
    )

    response = copy.get(live_server + "/vendor/", allow_redirects=False)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
