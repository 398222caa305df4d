"""A negative net recovered by reversing an earlier transfer, when configured
(``PAYOUT_NEGATIVE_NET = "reverse"``), against the local Stripe server over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.admin.models import AuditEvent
from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.payouts import runs, vendor_page
from portal.payouts.models import Payout
from tests.orders.helpers import established_shop
from tests.payouts.helpers import connect, mark_queued_records, net_of, payouts_of, settled_order
from tests.payouts.test_runs import hold_of, refund_after_payout


@pytest.fixture
def reverse(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_NEGATIVE_NET", "reverse")


def paid_then_refunded(app_stripe, refund: str = "40.00"):
    """A shop paid 50.00 less fees by a first run, then refunded: its net is now negative."""
    app_stripe.set_balance(1_000_000)
    shop = established_shop()
    connect(shop, app_stripe)
    order = settled_order(shop, "50.00")
    runs.run_payouts()
    [first] = payouts_of(shop)
    assert first.status == "paid"
    refund_after_payout(order, refund)
    assert net_of(shop) < 0
    return shop, first


def test_carried_by_default(db_session, app_stripe):
    shop, first = paid_then_refunded(app_stripe)
    waiting = net_of(shop)
    runs.run_payouts()
    assert hold_of(shop).reason == "negative_net"
    assert hold_of(shop).amount_waiting == waiting
    assert [p.id for p in payouts_of(shop)] == [first.id]


def test_reversed_once_from_the_earlier_transfer(db_session, app_stripe, reverse):
    shop, first = paid_then_refunded(app_stripe)
    owed = -net_of(shop)
    refund_records = [r.id for r in db.session.execute(_payable(shop))]

    run = runs.run_payouts()

    recovery = next(p for p in payouts_of(shop) if p.kind == "recovery")
    assert (recovery.status, recovery.amount, recovery.batch_id) == ("paid", -owed, run.id)
    assert recovery.recovered_from_id == first.id
    assert sorted(recovery.commission_ids) == sorted(refund_records)
    [reversal] = app_stripe.stripe.store.state.transfers[first.stripe_transfer_id]["reversals"][
        "data"
    ]
    assert reversal["id"] == recovery.stripe_reversal_id
    assert reversal["amount"] == int(owed * 100)
    assert reversal["metadata"] == {"payout_id": str(recovery.id)}
    db.session.expire_all()
    assert db.session.get(Payout, first.id).amount_reversed == owed
    assert net_of(shop) == 0 and hold_of(shop) is None
    mark_queued_records()  # the job the run queued
    statuses = db.session.scalars(
        sa.select(CommissionRecord.status).where(CommissionRecord.id.in_(refund_records))
    ).all()
    assert set(statuses) == {"paid"}
    audit = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "payout.recovered")
    ).all()
    assert [(a.subject_id, a.actor_id, a.detail["amount"]) for a in audit] == [
        (str(recovery.id), None, str(owed))
    ]

    words = {line.id: line.status_words for line in vendor_page.payout_history(shop.id)}
    assert words == {recovery.id: "Taken back from an earlier payout", first.id: "Sent"}

    runs.run_payouts()  # nothing left: no second reversal
    assert len(reversals_of(app_stripe, first)) == 1


def test_a_dropped_answer_is_not_reversed_twice(db_session, app_stripe, reverse):
    shop, first = paid_then_refunded(app_stripe)
    app_stripe.arm("drop_after", path=f"/v1/transfers/{first.stripe_transfer_id}/reversals")
    run = runs.run_payouts()
    recovery = next(p for p in payouts_of(shop) if p.kind == "recovery")
    if recovery.status != "paid":  # the gateway gave up on the dropped answer: retry it
        runs.run_payouts(run.id)
        recovery = db.session.get(Payout, recovery.id)
    assert recovery.status in ("paid", "failed")
    db.session.expire_all()
    reversals = app_stripe.stripe.store.state.transfers[first.stripe_transfer_id]["reversals"][
        "data"
    ]
    assert len(reversals) == 1


def test_held_when_no_earlier_transfer_has_enough_left(db_session, app_stripe, reverse):
    shop, first = paid_then_refunded(app_stripe, refund="50.00")
    # Stripe reversed most of the first transfer already (another recovery, the dashboard).
    first.amount_reversed = first.amount - Decimal("1.00")
    db.session.flush()
    runs.run_payouts()
    assert hold_of(shop).reason == "negative_net"
    assert all(p.kind == "transfer" for p in payouts_of(shop))


def reversals_of(server, payout) -> list[dict]:
    return server.stripe.store.state.transfers[payout.stripe_transfer_id]["reversals"]["data"]


def _payable(shop):
    from portal.payouts.payable import payable_records

    return payable_records(shop.id)


def test_a_reversal_made_before_the_key_was_forgotten_is_found_not_redone(
    db_session, app_stripe, reverse
):
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.payouts.gateway import gateway

    shop, first = paid_then_refunded(app_stripe)
    run = runs.start_run(trigger="schedule")
    db.session.commit()
    runs.group_run(run)
    recovery = next(p for p in payouts_of(shop) if p.kind == "recovery")
    # The worker made the reversal, died before recording it, and a day went by.
    gateway().create_transfer_reversal(
        first.stripe_transfer_id,
        amount=-recovery.amount,
        idempotency_key=recovery.idempotency_key,
        metadata={"payout_id": str(recovery.id)},
    )
    recovery.recovered_from_id = first.id
    recovery.key_first_sent_at = utcnow() - timedelta(hours=25)
    recovery.attempts = 1
    db.session.commit()

    runs.run_payouts(run.id)

    db.session.expire_all()
    recovery = db.session.get(Payout, recovery.id)
    assert recovery.status == "paid"
    [reversal] = reversals_of(app_stripe, first)
    assert recovery.stripe_reversal_id == reversal["id"]
    assert db.session.get(Payout, first.id).amount_reversed == -recovery.amount
