"""The vendor's payouts page: the account card, the next payout and what holds it, the history
with each payout's records, the CSV, the mail preferences; who may see and who may act."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.extensions import db
from portal.orders.models import OrderDispute, VendorOrderNumber
from portal.payouts.connect_models import VendorBankPayout
from portal.payouts.models import ConnectedAccount, Payout, PayoutHold, VendorPayoutNotices
from portal.payouts.payable import payable_records
from portal.vendors import staff
from portal.vendors.services import vendor_for_user
from tests.factories import make_admin, make_customer, make_driver, make_vendor
from tests.orders.helpers import commission_rows, now
from tests.payouts.helpers import settled_order

CLERK_PASSWORD = "a clerk's long password"
ACTIONS = [
    ("post", "/vendor/payouts/setup"),
    ("get", "/vendor/payouts/onboarding/refresh"),
    ("get", "/vendor/payouts/onboarding/return"),
    ("post", "/vendor/payouts/dashboard"),
    ("post", "/vendor/payouts/notices"),
]


@pytest.fixture
def shop(db_session):
    owner = make_vendor(shop_name="Paid Shop")
    vendor = vendor_for_user(owner)
    vendor.created_at = now() - timedelta(days=365)
    db.session.flush()
    return owner, vendor


def _clerk(owner, vendor):
    invitation, _ = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    staff.join_with_new_account(invitation, CLERK_PASSWORD)
    return "clerk@example.com"


def _paid_payout(vendor, order, status="paid", failure=None) -> Payout:
    records = commission_rows(order)
    payout = Payout(
        vendor_id=vendor.id,
        vendor_type=vendor.vendor_type,
        amount=sum(
            row.vendor_net
            for row in db.session.execute(payable_records(vendor.id))
            if row.id in {r.id for r in records}
        ),
        commission_ids=[r.id for r in records],
        status=status,
        stripe_transfer_id="tr_123" if status == "paid" else None,
        processed_at=utcnow() if status == "paid" else None,
        failed_at=utcnow() if failure else None,
        failure_reason=failure,
    )
    db.session.add(payout)
    db.session.flush()
    if status == "paid":  # a payout's list claims its records; they are written once it is paid
        for record in records:
            record.payout_id, record.status = payout.id, "paid"
    db.session.flush()
    return payout


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_new_owner_is_offered_set_up_and_told_when_payouts_run(
    client, auth, shop, app, monkeypatch
):
    owner, _ = shop
    auth.login(owner.email)
    html = client.get("/vendor/payouts/").get_data(as_text=True)
    assert "Set up payouts" in html and "Not set up" in html
    assert "Next payout run:" in _text(html)  # the weekly "payout-run" job
    monkeypatch.setitem(app.config, "PERIODIC_JOBS", {"payout-run": None})
    html = client.get("/vendor/payouts/").get_data(as_text=True)
    assert "Payouts are started by the marketplace" in _text(html)
    assert 'href="/vendor/payouts/"' in client.get("/vendor/").get_data(as_text=True)  # sidebar


def test_next_payout_sums_the_payable_net_and_names_its_holds(client, auth, shop, app):
    owner, vendor = shop
    sale = settled_order(vendor, "50.00", refund="10.00")
    disputed = settled_order(vendor, "30.00")
    db.session.add(
        OrderDispute(
            order_id=disputed.id,
            order_created_at=disputed.created_at,
            amount=Decimal("30.00"),
            opened_at=utcnow(),
        )
    )
    db.session.add(
        PayoutHold(
            vendor_id=vendor.id,
            reason="no_account",
            held_since=utcnow() - timedelta(days=8),
            reason_since=utcnow() - timedelta(days=8),
            amount_waiting=Decimal("12.34"),
            record_count=2,
        )
    )
    db.session.flush()
    expected = sum(row.vendor_net for row in db.session.execute(payable_records(vendor.id)))
    assert 0 < expected < Decimal("40.00")
    number = db.session.scalar(
        sa.select(VendorOrderNumber.number).where(VendorOrderNumber.order_id == disputed.id)
    )
    auth.login(owner.email)
    text = _text(client.get("/vendor/payouts/").get_data(as_text=True))
    assert f"${expected:,.2f}" in text
    assert "2 settled records" in text  # the sale and its refund; the disputed order waits
    assert "Held: You have not set up payouts yet." in text
    assert "$12.34 waiting (2 records)" in text
    assert f"#{number}" in text and "held by an open dispute" in text.lower()
    assert sale.id  # its records are the ones counted


def test_the_next_run_date_comes_from_the_payout_run_job(client, auth, shop, app, monkeypatch):
    owner, _ = shop
    monkeypatch.setitem(
        app.config,
        "PERIODIC_JOBS",
        {"payout-run": {"func_path": "x.y", "every": "weekly", "weekday": 0, "hour": 12}},
    )
    auth.login(owner.email)
    text = _text(client.get("/vendor/payouts/").get_data(as_text=True))
    assert "Next payout run: Mon" in text
    assert "started by the marketplace" not in text


def test_history_shows_each_payout_and_its_records(client, auth, shop):
    owner, vendor = shop
    order = settled_order(vendor, "80.00")
    payout = _paid_payout(vendor, order)
    failed_order = settled_order(vendor, "20.00")
    _paid_payout(
        vendor, failed_order, status="failed", failure="The destination account is closed."
    )
    auth.login(owner.email)
    text = _text(client.get("/vendor/payouts/").get_data(as_text=True))
    assert "Sent" in text and "Failed" in text and "The destination account is closed." in text
    assert f"${payout.amount:,.2f}" in text
    detail = client.get(f"/vendor/payouts/{payout.id}").get_data(as_text=True)
    number = db.session.scalar(
        sa.select(VendorOrderNumber.number).where(VendorOrderNumber.order_id == order.id)
    )
    assert f'href="/vendor/orders/{order.id}"' in detail and f"#{number}" in detail
    assert "$80.00" in detail


def test_the_csv_lists_every_payout_with_its_records(client, auth, shop):
    owner, vendor = shop
    order = settled_order(vendor, "80.00", refund="5.00")
    payout = _paid_payout(vendor, order)
    auth.login(owner.email)
    response = client.get("/vendor/payouts/export.csv")
    assert response.status_code == 200 and "text/csv" in response.content_type
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["payout_id"] for row in rows} == {str(payout.id)}
    assert sorted(row["kind"] for row in rows) == ["refund", "sale"]
    assert sum(Decimal(row["net"]) for row in rows) == payout.amount


def test_the_vendors_bank_payouts_are_shown(client, auth, shop):
    owner, vendor = shop
    db.session.add(
        VendorBankPayout(
            id="po_1",
            vendor_id=vendor.id,
            stripe_account_id="acct_1",
            amount=Decimal("42.50"),
            currency="usd",
            status="failed",
            created=utcnow(),
            failure_message="The bank account has been closed.",
        )
    )
    db.session.flush()
    auth.login(owner.email)
    text = _text(client.get("/vendor/payouts/").get_data(as_text=True))
    assert "From Stripe to your bank" in text and "$42.50" in text
    assert "The bank account has been closed." in text


def test_the_owner_turns_the_optional_mails_off(client, auth, shop):
    owner, vendor = shop
    auth.login(owner.email)
    html = client.get("/vendor/payouts/").get_data(as_text=True)
    assert "A failed payout is always mailed." in html
    response = client.post("/vendor/payouts/notices", data={"hold_changed": "on"})
    assert response.status_code == 302
    notices = db.session.get(VendorPayoutNotices, vendor.id)
    assert (notices.payout_sent, notices.hold_changed) == (False, True)
    html = client.get("/vendor/payouts/").get_data(as_text=True)
    assert re.search(r'name="payout_sent"\s*>', html)  # unchecked now
    assert re.search(r'name="hold_changed" checked', html)


def test_staff_see_the_page_but_not_the_actions(client, auth, shop):
    owner, vendor = shop
    order = settled_order(vendor, "20.00")
    payout = _paid_payout(vendor, order)
    auth.login(_clerk(owner, vendor), CLERK_PASSWORD)
    html = client.get("/vendor/payouts/").get_data(as_text=True)
    assert "Only the shop\u2019s owner can set up payouts." in html
    assert 'action="/vendor/payouts/setup"' not in html
    assert 'action="/vendor/payouts/notices"' not in html
    assert client.get(f"/vendor/payouts/{payout.id}").status_code == 200
    assert client.get("/vendor/payouts/export.csv").status_code == 200
    for method, path in ACTIONS:
        response = getattr(client, method)(path, data={"payout_sent": "on"})
        assert response.status_code == 403, path
    assert db.session.get(VendorPayoutNotices, vendor.id) is None


def test_another_vendors_payout_is_not_found(client, auth, shop):
    _owner, vendor = shop
    payout = _paid_payout(vendor, settled_order(vendor, "20.00"))
    rival = make_vendor(shop_name="Rival")
    auth.login(rival.email)
    assert client.get(f"/vendor/payouts/{payout.id}").status_code == 404
    assert str(payout.id) not in client.get("/vendor/payouts/export.csv").get_data(as_text=True)


@pytest.mark.parametrize("maker", [make_admin, make_customer, make_driver])
def test_other_roles_are_refused(client, auth, db_session, maker):
    auth.login(maker().email)
    pages = [("get", "/vendor/payouts/"), ("get", "/vendor/payouts/export.csv")]
    for method, path in [*pages, *ACTIONS]:
        assert getattr(client, method)(path).status_code == 403, path


def test_stripe_not_answering_is_said_on_the_page(client, auth, shop, app, monkeypatch):
    owner, _ = shop
    # Nothing listens on the port: every attempt fails to connect.
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setitem(app.config, "STRIPE_RETRY_BASE_SECONDS", 0)
    monkeypatch.delitem(app.extensions, "stripe_gateway", raising=False)
    auth.login(owner.email)
    response = client.post("/vendor/payouts/setup", follow_redirects=True)
    app.extensions.pop("stripe_gateway", None)
    assert response.status_code == 200
    assert "Stripe did not answer just now" in response.get_data(as_text=True)
    assert "Set up payouts" in response.get_data(as_text=True)


def test_admins_see_the_same_account_state_on_the_vendor_page(client, auth, shop):
    _, vendor = shop
    db.session.add(
        ConnectedAccount(
            vendor_id=vendor.id,
            stripe_account_id="acct_admin_view",
            account_type="express",
            capabilities={"transfers": "inactive"},
            requirements={"currently_due": ["external_account"], "past_due": [], "errors": []},
        )
    )
    db.session.flush()
    auth.login(make_admin().email)
    text = _text(client.get(f"/admin/vendors/{vendor.id}").get_data(as_text=True))
    assert "Payouts account" in text and "Action required" in text
    assert "a bank account for payouts" in text and "acct_admin_view" in text
