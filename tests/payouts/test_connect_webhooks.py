"""Both Stripe webhook endpoints over HTTP, with events signed and sent by the local Stripe
server: account changes, deauthorization, the vendor's bank payouts; replays, out-of-order
events, bad signatures, the wrong mode, unknown types."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa

from portal.extensions import db
from portal.payouts import onboarding
from portal.payouts.account_state import account_state
from portal.payouts.connect_models import StripeEvent, VendorBankPayout
from portal.payouts.models import ConnectedAccount
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor
from tests.payouts.connect_helpers import delivered, signed_event, wire_webhooks


@pytest.fixture
def wired(app, app_stripe, live_server, committed):
    """A vendor with a new connected account, and the local server's webhooks aimed at the app."""
    vendor = vendor_for_user(make_vendor(shop_name="Hooked"))
    account_id = onboarding.ensure_account(vendor)
    wire_webhooks(app, app_stripe, live_server)
    return vendor.id, account_id


def _row(vendor_id) -> ConnectedAccount:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(ConnectedAccount).where(ConnectedAccount.vendor_id == vendor_id)
    )


def _stored() -> list[tuple[str, str, bool]]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(StripeEvent.type, StripeEvent.endpoint, StripeEvent.handled).order_by(
                StripeEvent.received_at, StripeEvent.type
            )
        ).tuples()
    )


def _statuses(events) -> list[list[int | None]]:
    return [[d["status"] for d in item["deliveries"]] for item in events]


def test_completed_onboarding_reaches_the_account_row_through_connect_events(wired, app_stripe):
    vendor_id, account_id = wired
    assert account_state(vendor_id).key == "action_required"
    app_stripe.onboard(account_id)
    events = delivered(app_stripe)
    assert [item["event"]["type"] for item in events] == ["capability.updated", "account.updated"]
    assert _statuses(events) == [[200], [200]]
    row = _row(vendor_id)
    assert row.payouts_enabled and row.charges_enabled
    assert row.capabilities == {"transfers": "active"}
    assert row.requirements["currently_due"] == []
    assert account_state(vendor_id).key == "active"
    assert sorted(_stored()) == [
        ("account.updated", "connect", True),
        ("capability.updated", "connect", True),
    ]


def test_a_replayed_event_changes_nothing(wired, app_stripe):
    _vendor_id, account_id = wired
    app_stripe.onboard(account_id)
    events = delivered(app_stripe)
    reads = len(app_stripe.calls("GET", f"/v1/accounts/{account_id}"))
    for item in events:
        app_stripe.control(f"/events/{item['event']['id']}/resend")
    events = delivered(app_stripe)
    assert _statuses(events) == [[200, 200], [200, 200]]
    # Not handled again: the account was not even read.
    assert len(app_stripe.calls("GET", f"/v1/accounts/{account_id}")) == reads
    assert len(_stored()) == 2


def test_an_older_event_arriving_last_does_not_undo_a_newer_one(
    app, wired, app_stripe, live_server
):
    vendor_id, account_id = wired
    wire_webhooks(app, app_stripe, live_server, connect=False)  # hold the events back
    app_stripe.onboard(account_id)  # says: active
    app_stripe.control(
        f"/accounts/{account_id}",
        {
            "payouts_enabled": False,
            "requirements": {
                "currently_due": ["individual.verification.document"],
                "past_due": ["individual.verification.document"],
                "disabled_reason": "requirements.past_due",
                "current_deadline": 1_900_000_000,
            },
        },
    )  # then: action required
    events = [item["event"] for item in delivered(app_stripe)]
    wire_webhooks(app, app_stripe, live_server)
    # Newest first, then the older ones.
    for event in reversed(events):
        app_stripe.control(f"/events/{event['id']}/resend")
    delivered(app_stripe)
    state = account_state(vendor_id)
    assert state.key == "action_required"
    assert state.asks == ["a photo of your ID document"]
    assert state.overdue and state.deadline.year == 2030
    assert not _row(vendor_id).payouts_enabled


def test_a_deauthorized_account_is_kept_marked_disconnected(wired, app_stripe):
    vendor_id, account_id = wired
    app_stripe.onboard(account_id)
    delivered(app_stripe)
    app_stripe.control(f"/accounts/{account_id}/deauthorize")
    delivered(app_stripe)
    row = _row(vendor_id)
    assert row.stripe_account_id == account_id  # kept
    assert not row.payouts_enabled and row.capabilities == {"transfers": "inactive"}
    assert account_state(vendor_id).key == "disconnected"
    # A later account event does not bring it back.
    app_stripe.control(f"/accounts/{account_id}", {"payouts_enabled": True})
    delivered(app_stripe)
    assert account_state(vendor_id).key == "disconnected"
    assert not _row(vendor_id).payouts_enabled


def test_the_vendors_bank_payouts_are_recorded_and_never_go_back(wired, app_stripe):
    vendor_id, account_id = wired
    app_stripe.onboard(account_id)
    paid = app_stripe.control(
        f"/accounts/{account_id}/payouts", {"amount": 4_250, "status": "paid"}
    )
    failed = app_stripe.control(
        f"/accounts/{account_id}/payouts", {"amount": 1_000, "status": "failed"}
    )
    events = delivered(app_stripe)
    db.session.expire_all()
    rows = {row.id: row for row in db.session.scalars(sa.select(VendorBankPayout))}
    assert rows[paid["id"]].status == "paid"
    assert str(rows[paid["id"]].amount) == "42.50"
    assert rows[failed["id"]].status == "failed"
    assert rows[failed["id"]].failure_message == "The bank account has been closed."
    assert {row.vendor_id for row in rows.values()} == {vendor_id}
    # The paid payout's earlier payout.created (pending) arriving late must not undo "paid".
    db.session.execute(sa.delete(StripeEvent).where(StripeEvent.type == "payout.created"))
    db.session.commit()  # as if it had never been delivered
    created = next(
        item["event"]
        for item in events
        if item["event"]["type"] == "payout.created"
        and item["event"]["data"]["object"]["id"] == paid["id"]
    )
    app_stripe.control(f"/events/{created['id']}/resend")
    delivered(app_stripe)
    db.session.expire_all()
    assert db.session.get(VendorBankPayout, paid["id"]).status == "paid"


def test_a_bad_signature_is_a_400_and_changes_nothing(app, wired, live_server):
    vendor_id, account_id = wired
    for path, secret in [
        ("/webhooks/stripe/connect", "whsec_wrong"),
        ("/webhooks/stripe/connect", app.config["STRIPE_WEBHOOK_SECRET"]),  # the other endpoint's
        ("/webhooks/stripe", app.config["STRIPE_CONNECT_WEBHOOK_SECRET"]),
    ]:
        body, headers = signed_event(
            secret,
            "account.application.deauthorized",
            {"id": "ca_1", "object": "application"},
            account=account_id,
        )
        response = requests.post(live_server + path, data=body, headers=headers, timeout=10)
        assert response.status_code == 400
        assert "signature" in response.json()["error"]
    response = requests.post(
        live_server + "/webhooks/stripe/connect", data=b"{}", headers={}, timeout=10
    )
    assert response.status_code == 400
    assert _stored() == []
    assert account_state(vendor_id).key == "action_required"


def test_an_event_of_the_other_mode_is_refused_and_not_stored(app, wired, live_server):
    vendor_id, account_id = wired
    body, headers = signed_event(
        app.config["STRIPE_CONNECT_WEBHOOK_SECRET"],
        "account.application.deauthorized",
        {"id": "ca_1", "object": "application"},
        account=account_id,
        livemode=True,
    )
    response = requests.post(
        live_server + "/webhooks/stripe/connect", data=body, headers=headers, timeout=10
    )
    assert response.status_code == 400
    assert "live-mode event" in response.json()["error"]
    assert _stored() == []
    assert account_state(vendor_id).key == "action_required"


def test_unknown_types_are_acknowledged_and_stored(app, wired, live_server):
    for type_, event_id in [("customer.created", "evt_unknown"), ("charge.captured", "evt_ch")]:
        body, headers = signed_event(
            app.config["STRIPE_WEBHOOK_SECRET"],
            type_,
            {"id": "x", "object": "thing"},
            event_id=event_id,
        )
        response = requests.post(
            live_server + "/webhooks/stripe", data=body, headers=headers, timeout=10
        )
        assert response.status_code == 200
        assert response.json() == {"status": "ignored"}
    assert sorted(_stored()) == [
        ("charge.captured", "platform", False),
        ("customer.created", "platform", False),
    ]


def test_a_connect_event_without_its_account_is_refused(app, wired, live_server):
    body, headers = signed_event(
        app.config["STRIPE_CONNECT_WEBHOOK_SECRET"], "account.updated", {"id": "acct_x"}
    )
    response = requests.post(
        live_server + "/webhooks/stripe/connect", data=body, headers=headers, timeout=10
    )
    assert response.status_code == 400
    assert _stored() == []


def test_when_stripe_cannot_be_read_the_event_is_kept_for_stripes_retry(wired, app_stripe):
    vendor_id, account_id = wired
    app_stripe.arm("api_error", path=f"/v1/accounts/{account_id}", method="GET", times=8)
    app_stripe.onboard(account_id)
    events = delivered(app_stripe)
    assert _statuses(events) == [[503], [503]]
    assert _stored() == []
    app_stripe.control("/faults", method="DELETE")
    for item in events:
        app_stripe.control(f"/events/{item['event']['id']}/resend")
    delivered(app_stripe)
    assert account_state(vendor_id).key == "active"
    assert len(_stored()) == 2


def test_an_event_about_an_account_that_is_no_vendors_is_acknowledged(app, wired, live_server):
    body, headers = signed_event(
        app.config["STRIPE_CONNECT_WEBHOOK_SECRET"],
        "account.updated",
        {"id": "acct_of_someone_else", "object": "account"},
        account="acct_of_someone_else",
    )
    response = requests.post(
        live_server + "/webhooks/stripe/connect", data=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    assert _stored() == [("account.updated", "connect", True)]


def test_a_signed_event_not_shaped_as_stripes_is_a_400_and_kept_nowhere(app, wired, live_server):
    _, account_id = wired
    secret = app.config["STRIPE_CONNECT_WEBHOOK_SECRET"]
    for obj in [
        {"id": "po_bad", "amount": "ten", "currency": "usd", "status": "paid", "created": 1},
        {"status": "paid"},
    ]:
        body, headers = signed_event(secret, "payout.paid", obj, account=account_id)
        response = requests.post(
            live_server + "/webhooks/stripe/connect", data=body, headers=headers, timeout=10
        )
        assert response.status_code == 400
        assert response.json()["error"].startswith("malformed payout.paid event")
    assert _stored() == []
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VendorBankPayout)) == 0
