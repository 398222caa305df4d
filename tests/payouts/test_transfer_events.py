"""The platform webhook's transfer and balance events, as the local server makes them."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.payouts import runs
from portal.payouts.gateway import gateway
from portal.payouts.models import Payout
from portal.payouts.transfer_events import on_balance_available, on_transfer_event
from tests.payouts.helpers import (
    failed_after_drop,
    mark_queued_records,
    payable_shop,
    payouts_of,
)


def transfer_events(server, event_type: str) -> list[dict]:
    return [e["data"]["object"] for e in server.events() if e["type"] == event_type]


def test_transfer_created_records_a_transfer_the_portal_never_heard_back_about(
    db_session, app_stripe
):
    shop = payable_shop(app_stripe)
    payout = failed_after_drop(shop, app_stripe)
    [created] = transfer_events(app_stripe, "transfer.created")

    assert on_transfer_event("transfer.created", created) == payout
    db.session.expire_all()
    assert payout.status == "paid" and payout.stripe_transfer_id == created["id"]
    assert payout.failure_reason is None
    mark_queued_records()  # queued by the webhook's commit
    marked = sa.select(CommissionRecord.status, CommissionRecord.payout_id).where(
        CommissionRecord.id.in_(payout.commission_ids)
    )
    assert set(db.session.execute(marked)) == {("paid", payout.id)}
    # A replay changes nothing, and the admin has nothing left to retry.
    on_transfer_event("transfer.created", created)
    assert len(app_stripe.transfer_log()) == 1


def test_a_reversal_is_recorded_and_an_older_event_arriving_late_does_not_undo_it(
    db_session, app_stripe
):
    shop = payable_shop(app_stripe)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    gateway().create_transfer_reversal(
        payout.stripe_transfer_id, idempotency_key="reverse-test", amount=Decimal("5.00")
    )
    app_stripe.control("/events/wait", {"timeout": 5})
    [reversed_] = transfer_events(app_stripe, "transfer.reversed")
    [created] = transfer_events(app_stripe, "transfer.created")

    on_transfer_event("transfer.reversed", reversed_)
    db.session.expire_all()
    assert payout.amount_reversed == Decimal("5.00") and payout.reversed_at is not None
    on_transfer_event("transfer.created", created)  # out of order: older, nothing reversed
    on_transfer_event("transfer.updated", created)
    db.session.expire_all()
    assert payout.amount_reversed == Decimal("5.00") and payout.status == "paid"


def test_events_for_transfers_that_are_not_ours_or_other_types_change_nothing(
    db_session, app_stripe
):
    payable_shop(app_stripe)
    runs.run_payouts()
    [created] = transfer_events(app_stripe, "transfer.created")
    stranger = {**created, "id": "tr_notours", "metadata": {"payout_id": "not-a-uuid"}}
    assert on_transfer_event("transfer.created", stranger) is None
    assert on_transfer_event("payout.paid", created) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 1


def test_balance_available_with_nothing_available_sends_nothing(db_session, app_stripe):
    shop = payable_shop(app_stripe)
    app_stripe.arm("balance_insufficient", times=2)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "waiting"
    assert (
        on_balance_available({"object": "balance", "available": [{"amount": 0, "currency": "usd"}]})
        == 0
    )
    app_stripe.control("/balance", {"currency": "usd", "add": 500})
    app_stripe.control("/events/wait", {"timeout": 5})
    [balance] = transfer_events(app_stripe, "balance.available")[-1:]
    assert on_balance_available(balance) == 1
    db.session.expire_all()
    assert payout.status == "paid"


def test_the_platform_endpoint_hands_a_signed_reversal_to_the_runs(
    app, client, db_session, app_stripe
):
    from tests.payouts.connect_helpers import signed_event

    shop = payable_shop(app_stripe)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    gateway().create_transfer_reversal(
        payout.stripe_transfer_id, idempotency_key="reverse-http", amount=Decimal("3.00")
    )
    app_stripe.control("/events/wait", {"timeout": 5})
    [reversed_] = transfer_events(app_stripe, "transfer.reversed")
    body, headers = signed_event(
        app.config["STRIPE_WEBHOOK_SECRET"], "transfer.reversed", reversed_, event_id="evt_rev"
    )

    for _ in range(2):  # the replay changes nothing
        response = client.post("/webhooks/stripe", data=body, headers=headers)
        assert response.status_code == 200
        db.session.expire_all()
        assert payout.amount_reversed == Decimal("3.00") and payout.status == "paid"
