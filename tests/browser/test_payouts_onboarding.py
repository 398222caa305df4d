"""A vendor sets up payouts in Chromium: the portal sends them to the local Stripe server's
stand-in for Stripe's hosted onboarding, they agree and submit, and come back to an active
account on the payouts page; Stripe's events reach the portal's Connect endpoint meanwhile. The
next payout run pays the shop, and the owner sees the payout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.money import money_text
from portal.payouts import runs
from portal.payouts.connect_models import StripeEvent
from portal.vendors.services import vendor_for_user
from tests.browser.conftest import PHONE
from tests.factories import PASSWORD, make_vendor
from tests.payouts.conftest import (  # noqa: F401  (the fixtures)
    app_stripe,
    local_stripe,
    local_stripe_factory,
)
from tests.payouts.connect_helpers import delivered, wire_webhooks
from tests.payouts.helpers import net_of, settled_order

pytestmark = pytest.mark.browser


def test_a_vendor_onboards_through_stripes_hosted_page(
    app,
    app_stripe,  # noqa: F811  (the fixture imported above)
    live_server,
    committed,
    page_factory,
    monkeypatch,
):
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    wire_webhooks(app, app_stripe, live_server)
    owner = make_vendor(shop_name="Chromium Payouts")
    vendor = vendor_for_user(owner)
    settled_order(vendor, "64.00")
    committed.commit()

    page = page_factory(PHONE)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/vendor/")
    assert "Set up payouts" in page.inner_text("#onboarding")  # the checklist's step

    page.goto(f"{live_server}/vendor/payouts/")
    assert "Not set up" in page.inner_text("#payouts-account")
    next_payout = page.inner_text("#next-payout")
    assert "1 settled record" in next_payout
    page.click("#payouts-account button:has-text('Set up payouts')")

    page.wait_for_url(f"{app_stripe.url}/setup/**")
    assert "Agree and submit" in page.content()
    page.click("button:has-text('Agree and submit')")

    page.wait_for_url(f"{live_server}/vendor/payouts/")
    account = page.inner_text("#payouts-account")
    assert "Active" in account and "Payouts are on" in account
    assert "Payouts are set up" in page.inner_text("main")
    assert "Open your Stripe dashboard" in account
    page.screenshot(path="test-artifacts/vendor-payouts-active.png", full_page=True)

    # The Express dashboard opens through a login link.
    page.click("#payouts-account button:has-text('Open your Stripe dashboard')")
    page.wait_for_url(f"{app_stripe.url}/express/**")
    assert "payouts enabled" in page.inner_text("main")

    # Stripe's own events about the account were heard too.
    events = delivered(app_stripe)
    assert {item["event"]["type"] for item in events} == {"account.updated", "capability.updated"}
    assert all(d["status"] == 200 for item in events for d in item["deliveries"])
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == len(events)

    page.goto(f"{live_server}/vendor/")
    assert page.locator("#onboarding").count() == 0 or "Set up payouts" not in page.inner_text(
        "#onboarding li.todo"
    )

    # The next run pays the shop, and its owner sees the payout and the record it paid.
    app_stripe.set_balance(1_000_000)
    # The top-up's balance.available webhook takes the payout lock for a moment: let it finish,
    # or the run below may find the lock taken (seen on a slow machine).
    delivered(app_stripe)
    expected = net_of(vendor)
    run = runs.run_payouts(trigger="admin")
    assert run.status == "finished"
    page.goto(f"{live_server}/vendor/payouts/")
    history = page.inner_text("#payout-history")
    assert "Sent" in history and money_text(expected) in history
    page.click("#payout-history a")
    page.wait_for_url(f"{live_server}/vendor/payouts/**")
    assert "Sent" in page.inner_text("main")
    assert money_text(expected) in page.inner_text("main")
    page.screenshot(path="test-artifacts/vendor-payout-sent.png", full_page=True)
