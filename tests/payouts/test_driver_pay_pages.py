"""A driver's Pay page and earnings statement: onboarding to Stripe Connect through the vendors'
service (one account, ever; the Connect webhook keeps it current), the next payout and past
payouts, the statement per delivery with its period filter and CSV; who may see what."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.extensions import db
from portal.payouts import onboarding, runs
from portal.payouts.account_state import account_state
from portal.payouts.holders import DRIVER, Holder
from portal.payouts.models import ConnectedAccount
from tests.deliveries.helpers import verified_driver
from tests.factories import make_admin, make_customer, make_vendor
from tests.payouts.connect_helpers import delivered, wire_webhooks
from tests.payouts.driver_helpers import delivered_for, earning_driver

PAGES = ["/driver/payouts/", "/driver/payouts/earnings", "/driver/payouts/earnings.csv"]
ACTIONS = [
    ("post", "/driver/payouts/setup"),
    ("get", "/driver/payouts/onboarding/refresh"),
    ("get", "/driver/payouts/onboarding/return"),
    ("post", "/driver/payouts/dashboard"),
]


def test_a_driver_sets_up_payouts_once_and_links_come_back_to_the_driver_pages(
    app_stripe, db_session
):
    driver = verified_driver()
    first = onboarding.onboarding_link(driver)
    second = onboarding.onboarding_link(driver)
    assert first != second
    assert app_stripe.calls("POST", "/v1/accounts") == [200]
    links = list(app_stripe.stripe.store.state.account_links.values())
    assert {urlparse(link.refresh_url).path for link in links} == {
        "/driver/payouts/onboarding/refresh"
    }
    assert {urlparse(link.return_url).path for link in links} == {
        "/driver/payouts/onboarding/return"
    }
    [account] = app_stripe.stripe.store.state.accounts.values()
    assert account["metadata"] == {"driver_id": str(driver.id)}
    assert account["email"] == driver.email
    row = db.session.scalar(
        sa.select(ConnectedAccount).where(ConnectedAccount.driver_id == driver.id)
    )
    assert row.vendor_id is None and row.account_type == "express"
    assert account_state(driver).key == "action_required"


def test_account_updated_reaches_the_drivers_account(app, app_stripe, live_server, committed):
    driver = verified_driver()
    account_id = onboarding.ensure_account(driver)
    wire_webhooks(app, app_stripe, live_server)
    app_stripe.onboard(account_id)
    events = delivered(app_stripe)
    assert {item["event"]["type"] for item in events} == {"capability.updated", "account.updated"}
    db.session.expire_all()
    assert account_state(Holder(DRIVER, driver.id)).key == "active"


def test_the_driver_onboards_in_the_browser_and_returns_to_an_active_account(
    app, app_stripe, live_server, committed
):
    app.config["PUBLIC_URL"] = live_server
    driver = verified_driver()
    committed.commit()
    from tests.http_browser import signed_in

    browser = signed_in(live_server, driver.email)
    page = browser.get(live_server + "/driver/payouts/")
    assert page.status_code == 200 and "Set up payouts" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    link = browser.post(
        live_server + "/driver/payouts/setup", data={"csrf_token": token}, allow_redirects=False
    ).headers["Location"]
    assert link.startswith(app_stripe.url + "/setup/")
    account_id = db.session.scalar(
        sa.select(ConnectedAccount.stripe_account_id).where(ConnectedAccount.driver_id == driver.id)
    )
    app_stripe.onboard(account_id)
    back = browser.get(live_server + "/driver/payouts/onboarding/return")
    assert back.status_code == 200 and "Payouts are set up" in back.text


def test_the_pay_page_shows_the_next_payout_what_settles_and_past_payouts(
    client, auth, app_stripe, db_session
):
    driver = earning_driver(app_stripe, earnings=(("8.00", "2.00"),))
    app_stripe.set_balance(1_000_000)
    runs.run_payouts()
    delivered_for(driver, "5.00", "1.50", days_ago=0)  # settling
    delivered_for(driver, "4.00", "0.00", days_ago=30)
    from portal.payouts.driver_earnings import settle_due_driver_earnings

    settle_due_driver_earnings(utcnow())
    auth.login(driver.email)
    page = client.get("/driver/payouts/").get_data(as_text=True)
    assert "Active" in page
    next_card = page.split('id="next-payout"')[1].split("</article>")[0]
    assert "$4.00" in next_card and "1 delivery" in next_card
    assert "$6.50" in next_card  # still settling
    history = page.split('id="payout-history"')[1]
    assert "$10.00" in history and "Sent" in history


def test_a_held_driver_reads_why(client, auth, app_stripe, db_session):
    driver = earning_driver(onboard=None)
    app_stripe.set_balance(1_000_000)
    runs.run_payouts()
    auth.login(driver.email)
    page = client.get("/driver/payouts/").get_data(as_text=True)
    assert "Held:" in page and "not set up payouts" in page


def test_the_statement_per_delivery_with_its_period_and_csv(client, auth, db_session):
    driver = verified_driver()
    delivered_for(driver, "8.00", "2.00", days_ago=0)
    old = delivered_for(driver, "6.00", "0.50", days_ago=70)
    auth.login(driver.email)

    page = client.get("/driver/payouts/earnings").get_data(as_text=True)  # this month
    assert "$10.00" in page and "$6.50" not in page
    month = old.delivery_completed_at.strftime("%Y-%m")
    page = client.get(f"/driver/payouts/earnings?month={month}").get_data(as_text=True)
    assert "$6.50" in page and "$10.00" not in page
    page = client.get("/driver/payouts/earnings?month=all").get_data(as_text=True)
    assert "$16.50" in page  # the total of both

    bad = client.get("/driver/payouts/earnings?month=2026-13")
    assert bad.status_code == 400 and "not a month" in bad.get_data(as_text=True)

    response = client.get("/driver/payouts/earnings.csv?month=all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Delivered (UTC)", "Pay", "Tip", "Total", "Status", "Paid on (UTC)"]
    assert [row[1:5] for row in rows[1:]] == [
        ["8.00", "2.00", "10.00", "Settling"],
        ["6.00", "0.50", "6.50", "Settling"],
    ]
    assert client.get("/driver/payouts/earnings.csv?month=junk").status_code == 400


def test_a_driver_sees_only_their_own_earnings(client, auth, db_session):
    mine, theirs = verified_driver(), verified_driver()
    delivered_for(mine, "3.00", "0.00", days_ago=0)
    delivered_for(theirs, "77.00", "0.00", days_ago=0)
    auth.login(mine.email)
    page = client.get("/driver/payouts/earnings?month=all").get_data(as_text=True)
    assert "$3.00" in page and "$77.00" not in page
    assert "77.00" not in client.get("/driver/payouts/earnings.csv?month=all").get_data(True)
    # Another driver's statement is the admins' page only.
    assert client.get(f"/admin/drivers/{theirs.id}/earnings").status_code == 403


def test_admins_see_any_drivers_statement(client, auth, db_session):
    driver = verified_driver()
    delivered_for(driver, "9.00", "1.00", days_ago=0)
    auth.login(make_admin().email)
    page = client.get(f"/admin/drivers/{driver.id}/earnings?month=all")
    assert page.status_code == 200 and "$10.00" in page.get_data(as_text=True)
    csv_answer = client.get(f"/admin/drivers/{driver.id}/earnings.csv?month=all")
    assert csv_answer.status_code == 200 and "9.00" in csv_answer.get_data(as_text=True)
    missing = "/admin/drivers/00000000-0000-0000-0000-000000000000/earnings"
    assert client.get(missing).status_code == 404
    # The driver's own pages are the driver's.
    assert client.get("/driver/payouts/").status_code == 403


@pytest.mark.parametrize("maker", [make_vendor, make_customer])
def test_vendors_and_customers_are_refused(client, auth, db_session, maker):
    driver = verified_driver()
    auth.login(maker().email)
    for path in [*PAGES, f"/admin/drivers/{driver.id}/earnings"]:
        assert client.get(path).status_code == 403, path
    for method, path in ACTIONS:
        assert getattr(client, method)(path).status_code == 403, path


def test_anonymous_is_sent_to_sign_in(client, db_session):
    driver = verified_driver()
    for path in [*PAGES, f"/admin/drivers/{driver.id}/earnings"]:
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    for method, path in ACTIONS:
        assert getattr(client, method)(path).status_code == 302, path


def test_the_driver_tab_bar_has_pay(client, auth, db_session):
    driver = verified_driver()
    auth.login(driver.email)
    page = client.get("/driver/").get_data(as_text=True)
    assert 'href="/driver/payouts/"' in page
