"""Setting up payouts: one connected account per vendor, whatever the clicks; a fresh Account
Link per click; back from Stripe's hosted page, the account is read again."""

from __future__ import annotations

import threading
from urllib.parse import urlparse

import sqlalchemy as sa

from portal.extensions import db
from portal.payouts import onboarding
from portal.payouts.account_state import account_state
from portal.payouts.connect_models import StripeOnboarding
from portal.payouts.models import ConnectedAccount
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor
from tests.payouts.connect_helpers import owner_browser


def _accounts_at_stripe(local_stripe) -> list[dict]:
    return list(local_stripe.stripe.store.state.accounts.values())


def test_the_account_is_created_once_with_express_settings(app_stripe, db_session):
    owner = make_vendor(shop_name="Once Only")
    vendor = vendor_for_user(owner)
    first = onboarding.ensure_account(vendor, user_id=owner.id)
    again = onboarding.ensure_account(vendor, user_id=owner.id)

    assert first == again
    assert app_stripe.calls("POST", "/v1/accounts") == [200]
    [account] = _accounts_at_stripe(app_stripe)
    assert account["controller"]["stripe_dashboard"] == {"type": "express"}
    assert account["controller"]["requirement_collection"] == "stripe"
    assert set(account["capabilities"]) == {"transfers"}
    assert account["metadata"] == {"vendor_id": str(vendor.id)}
    assert account["email"] == owner.email
    row = db_session.scalar(
        sa.select(ConnectedAccount).where(ConnectedAccount.vendor_id == vendor.id)
    )
    assert (row.stripe_account_id, row.account_type) == (first, "express")
    claim = db_session.scalar(sa.select(StripeOnboarding).filter_by(vendor_id=vendor.id))
    assert claim.stripe_account_id == first and claim.idempotency_key.endswith(str(vendor.id))
    assert account_state(vendor.id).key == "action_required"


def test_a_request_cut_off_after_stripe_made_the_account_gets_the_same_account(
    app_stripe, db_session
):
    vendor = vendor_for_user(make_vendor(shop_name="Cut Off"))
    # Stripe makes the account, the answer is lost; the retries inside the gateway, with the
    # claim's key, get the same account back.
    app_stripe.arm("drop_after", path="/v1/accounts")
    account_id = onboarding.ensure_account(vendor)
    assert len(_accounts_at_stripe(app_stripe)) == 1
    assert _accounts_at_stripe(app_stripe)[0]["id"] == account_id
    assert app_stripe.calls("POST", "/v1/accounts") == [None, 200]


def test_each_click_makes_a_fresh_link_and_refresh_mints_another(app_stripe, db_session):
    vendor = vendor_for_user(make_vendor(shop_name="Links"))
    first = onboarding.onboarding_link(vendor)
    second = onboarding.onboarding_link(vendor)
    assert first != second
    links = list(app_stripe.stripe.store.state.account_links.values())
    assert len(links) == 2
    assert {urlparse(link.refresh_url).path for link in links} == {
        "/vendor/payouts/onboarding/refresh"
    }
    assert {urlparse(link.return_url).path for link in links} == {
        "/vendor/payouts/onboarding/return"
    }
    assert app_stripe.calls("POST", "/v1/accounts") == [200]


def test_a_double_click_and_two_tabs_make_one_account(app, app_stripe, live_server, committed):
    app.config["PUBLIC_URL"] = live_server
    owner = make_vendor(shop_name="Double Click")
    vendor_id = vendor_for_user(owner).id
    committed.commit()
    tabs = [owner_browser(live_server, owner.email) for _ in range(4)]
    start = threading.Barrier(len(tabs))
    answers = []

    def click(browser, token):
        start.wait()
        answers.append(
            browser.post(
                live_server + "/vendor/payouts/setup",
                data={"csrf_token": token},
                allow_redirects=False,
                timeout=30,
            )
        )

    threads = [threading.Thread(target=click, args=tab) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [303] * len(tabs)
    links = {answer.headers["Location"] for answer in answers}
    assert len(links) == len(tabs)  # a fresh single-use link for every click
    assert all(link.startswith(app_stripe.url + "/setup/") for link in links)
    assert len(_accounts_at_stripe(app_stripe)) == 1
    # The claim's lock queued the other tabs: they found the account instead of asking again.
    assert app_stripe.calls("POST", "/v1/accounts") == [200]
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ConnectedAccount)
            .where(ConnectedAccount.vendor_id == vendor_id)
        )
        == 1
    )


def test_returning_from_stripe_reads_the_account_again(app, app_stripe, live_server, committed):
    app.config["PUBLIC_URL"] = live_server
    owner = make_vendor(shop_name="Back Again")
    vendor_id = vendor_for_user(owner).id
    committed.commit()
    browser, token = owner_browser(live_server, owner.email)
    link = browser.post(
        live_server + "/vendor/payouts/setup", data={"csrf_token": token}, allow_redirects=False
    ).headers["Location"]
    assert "Agree and submit" in browser.get(link).text
    # No webhooks are wired here: only the return re-reads the account.
    account_id = db.session.scalar(
        sa.select(ConnectedAccount.stripe_account_id).where(ConnectedAccount.vendor_id == vendor_id)
    )
    app_stripe.onboard(account_id)
    page = browser.get(live_server + "/vendor/payouts/onboarding/return")
    assert page.status_code == 200
    assert "Payouts are set up" in page.text
    db.session.expire_all()
    assert account_state(vendor_id).key == "active"
    # The opened link cannot be opened again: Stripe sends the vendor to refresh_url, which mints
    # another link.
    again = browser.get(link, allow_redirects=False)
    assert urlparse(again.headers["Location"]).path == "/vendor/payouts/onboarding/refresh"
    refreshed = browser.get(again.headers["Location"], allow_redirects=False)
    assert refreshed.status_code == 303
    assert refreshed.headers["Location"].startswith(app_stripe.url + "/setup/")
