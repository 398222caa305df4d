"""Payout runs against the local Stripe server over HTTP: grouping, holds, failures, retries."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.payouts import runs
from portal.payouts.models import Payout, PayoutHold, PayoutRunHold
from tests.orders.helpers import commission_rows, established_shop
from tests.payouts.helpers import (
    connect,
    failed_after_drop,
    mark_queued_records,
    net_of,
    payable_shop,
    payouts_of,
    queued_marking_jobs,
    settled_order,
)


def test_a_run_pays_each_vendor_once_with_its_net_refunds_netted(db_session, app_stripe):
    app_stripe.set_balance(1_000_000)
    shop, other = established_shop(), established_shop()
    connect(shop, app_stripe), connect(other, app_stripe)
    orders = [settled_order(shop, "50.00", refund="10.00"), settled_order(shop, "20.00")]
    settled_order(other, "30.00")
    expected = net_of(shop)
    records = [r.id for order in orders for r in commission_rows(order)]

    run = runs.run_payouts(trigger="schedule")

    assert run.status == "finished"
    [payout] = payouts_of(shop)
    assert payout.batch_id == run.id and payout.status == "paid"
    assert payout.amount == expected and payout.vendor_type == shop.vendor_type
    assert sorted(payout.commission_ids) == sorted(records)
    mark_queued_records()  # the job the run queued: the run itself writes no record
    db.session.expire_all()
    statuses = db.session.execute(
        sa.select(CommissionRecord.status, CommissionRecord.payout_id).where(
            CommissionRecord.id.in_(records)
        )
    ).all()
    assert statuses == [("paid", payout.id)] * len(records)
    [transfer] = [
        t for t in app_stripe.transfer_log() if t["metadata"]["payout_id"] == str(payout.id)
    ]
    assert transfer["id"] == payout.stripe_transfer_id
    assert transfer["amount"] == int(expected * 100)
    assert transfer["transfer_group"] == str(run.id)
    assert transfer["idempotency_key"] == payout.idempotency_key == f"payout-{payout.id}"
    assert payout.key_first_sent_at is not None and payout.attempts == 1

    again = runs.run_payouts(trigger="schedule")
    assert db.session.scalar(sa.select(sa.func.count()).where(Payout.batch_id == again.id)) == 0
    assert len(app_stripe.transfer_log()) == 2


def refund_after_payout(order, amount: str) -> None:
    from portal.commissions.services import settle_due_commissions
    from portal.orders.intake import apply_order_event
    from tests.orders.helpers import now, refunded

    apply_order_event(refunded(order.external_id, amount, at=now()))
    settle_due_commissions(now())


def owner_email(shop) -> str:
    return next(m.user.email for m in shop.members if m.role == "owner")


def hold_of(shop) -> PayoutHold | None:
    db.session.expire_all()
    return db.session.get(PayoutHold, shop.id)


def test_every_hold_reason_keeps_the_vendor_unpaid_and_says_why(db_session, app_stripe, app):
    app_stripe.set_balance(1_000_000)
    app.config["PAYOUT_MINIMUM"] = Decimal("25.00")
    try:
        no_account = established_shop()
        settled_order(no_account, "50.00")
        disabled = established_shop()
        connect(disabled, app_stripe, onboard=False)
        settled_order(disabled, "50.00")
        small = established_shop()
        connect(small, app_stripe)
        settled_order(small, "10.00")
        negative = established_shop()
        connect(negative, app_stripe)
        order = settled_order(negative, "50.00")
        for record in commission_rows(order):  # paid by an earlier payout ...
            record.status = "paid"
        refund_after_payout(order, "40.00")  # ... refunded since
        paid = established_shop()
        connect(paid, app_stripe)
        settled_order(paid, "50.00")
        db.session.flush()
        waiting = {shop: net_of(shop) for shop in (no_account, disabled, small, negative)}

        run = runs.run_payouts(trigger="schedule")
    finally:
        app.config["PAYOUT_MINIMUM"] = Decimal("1.00")

    reasons = {
        no_account: "no_account",
        disabled: "payouts_disabled",
        small: "below_minimum",
        negative: "negative_net",
    }
    for shop, reason in reasons.items():
        assert payouts_of(shop) == []
        hold = hold_of(shop)
        assert (hold.reason, hold.amount_waiting, hold.last_run_id) == (
            reason,
            waiting[shop],
            run.id,
        )
        run_hold = db.session.get(PayoutRunHold, (run.id, shop.id))
        assert (run_hold.reason, run_hold.amount_waiting) == (reason, waiting[shop])
        assert net_of(shop) == waiting[shop]  # still settled and unpaid
    assert hold_of(paid) is None and payouts_of(paid)[0].status == "paid"
    assert len(app_stripe.transfer_log()) == 1


def test_an_account_without_active_transfers_is_held_for_it(db_session, app_stripe):
    app_stripe.set_balance(1_000_000)
    shop = established_shop()
    account = connect(shop, app_stripe)
    account.capabilities = {"transfers": "pending"}
    settled_order(shop)
    runs.run_payouts()
    assert hold_of(shop).reason == "transfers_inactive"


def test_a_hold_lifts_when_a_run_pays_and_is_mailed_once_per_reason(
    db_session, app_stripe, mailbox
):
    app_stripe.set_balance(1_000_000)
    shop = established_shop()
    settled_order(shop, "50.00")
    first = runs.run_payouts()
    hold = hold_of(shop)
    since = hold.held_since
    runs.run_payouts()
    assert hold_of(shop).held_since == since  # the same hold, carried on
    assert [m["Subject"] for m in mailbox.to(owner_email(shop))] == [
        f"Payouts to {shop.name} are waiting"
    ]  # two runs, one mail
    assert first.id != hold_of(shop).last_run_id

    connect(shop, app_stripe, onboard=False)
    runs.run_payouts()
    hold = hold_of(shop)
    assert hold.reason == "payouts_disabled" and hold.held_since == since
    assert hold.reason_since > since
    assert len(mailbox.to(owner_email(shop))) == 2  # the reason changed: mailed again

    app_stripe.onboard(shop.connected_account.stripe_account_id)
    shop.connected_account.payouts_enabled = True
    shop.connected_account.capabilities = {"transfers": "active"}
    runs.run_payouts()
    assert hold_of(shop) is None
    assert payouts_of(shop)[0].status == "paid"
    assert mailbox.to(owner_email(shop))[-1]["Subject"].startswith("Payout sent")


def test_owners_who_turned_notices_off_get_no_sent_or_hold_mail(db_session, app_stripe, mailbox):
    from portal.payouts.models import VendorPayoutNotices

    app_stripe.set_balance(1_000_000)
    held, paid = established_shop(), established_shop()
    connect(paid, app_stripe)
    settled_order(held), settled_order(paid)
    for shop in (held, paid):
        db.session.add(
            VendorPayoutNotices(vendor_id=shop.id, payout_sent=False, hold_changed=False)
        )
    runs.run_payouts()
    assert mailbox.to(owner_email(held)) == [] and mailbox.to(owner_email(paid)) == []
    assert hold_of(held).notified_reason == "no_account"


def test_a_run_never_sends_more_than_the_available_balance(db_session, app_stripe):
    shops = [established_shop() for _ in range(3)]
    for shop in shops:
        connect(shop, app_stripe)
        settled_order(shop, "50.00")
    nets = sorted(net_of(shop) for shop in shops)
    app_stripe.set_balance(int((nets[0] + nets[1]) * 100) + 1)  # two fit, not three

    runs.run_payouts()

    statuses = sorted((hold_of(s).reason if hold_of(s) else payouts_of(s)[0].status) for s in shops)
    assert statuses == ["paid", "paid", "platform_balance"]
    assert len(app_stripe.transfer_log()) == 2


def test_a_transfer_refused_for_the_balance_waits_then_goes_out_on_balance_available(
    db_session, app_stripe
):
    from portal.payouts.transfer_events import on_balance_available

    shop = payable_shop(app_stripe)
    # Refused at the send and again at the run's own resend of what waits (the balance it
    # reads still covers it: only the fault says no).
    app_stripe.arm("balance_insufficient", times=2)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "waiting" and payout.idempotency_key is None
    assert app_stripe.transfer_log() == []

    balance = {"object": "balance", "available": [{"amount": 1_000_000, "currency": "usd"}]}
    assert on_balance_available(balance) == 1
    db.session.expire_all()
    assert payout.status == "paid"
    [transfer] = app_stripe.transfer_log()
    assert transfer["idempotency_key"] == payout.idempotency_key != f"payout-{payout.id}"
    assert on_balance_available(balance) == 0  # nothing waits any more
    assert f"mark-payout-records-payout-{payout.id}" in [j.id for j in queued_marking_jobs()]
    mark_queued_records()
    assert {(r.payout_id, r.status) for r in _records(payout.commission_ids)} == {
        (payout.id, "paid")
    }


def test_rate_limits_and_server_errors_are_retried_with_the_same_key(db_session, app_stripe):
    shop = payable_shop(app_stripe)
    app_stripe.arm("rate_limit", times=2)
    app_stripe.arm("api_error", times=1)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "paid"
    assert app_stripe.calls("POST", "/v1/transfers") == [429, 429, 500, 200]
    assert len(app_stripe.transfer_log()) == 1


def test_a_failed_payout_is_mailed_and_an_admin_retry_records_the_transfer_once(
    db_session, app_stripe, mailbox
):
    from portal.admin.models import AuditEvent
    from tests.factories import make_admin

    shop = payable_shop(app_stripe)
    payout = failed_after_drop(shop, app_stripe)
    assert mailbox.to(owner_email(shop))[-1]["Subject"].startswith("Payout failed")

    admin = make_admin()
    runs.retry_payout(payout.id, actor=admin)
    db.session.expire_all()
    assert payout.status == "paid" and payout.failure_reason is None
    assert len(app_stripe.transfer_log()) == 1  # the same key: Stripe replayed its answer
    assert payout.stripe_transfer_id == app_stripe.transfer_log()[0]["id"]
    [audit] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "payout.retried"))
    assert audit.actor_id == admin.id and audit.subject_id == str(payout.id)
    with pytest.raises(runs.PayoutError):
        runs.retry_payout(payout.id, actor=admin)  # paid: nothing to retry


def test_records_a_failed_or_waiting_payout_lists_are_not_grouped_again(db_session, app_stripe):
    """A run writes nothing to the records it groups: the payout's list claims them until its
    transfer is made, and only then do they get its id and ``paid``."""
    shop = payable_shop(app_stripe)
    payout = failed_after_drop(shop, app_stripe)
    records = sorted(payout.commission_ids)
    assert records and net_of(shop) == 0  # claimed by the failed payout's list
    assert all(r.payout_id is None and r.status == "settled" for r in _records(records))
    runs.run_payouts()
    assert payouts_of(shop) == [payout]  # the next run left them alone

    from tests.factories import make_admin

    runs.retry_payout(payout.id, actor=make_admin())
    db.session.expire_all()
    assert payout.status == "paid"
    mark_queued_records()  # queued by the retry's commit
    assert {(r.payout_id, r.status) for r in _records(records)} == {(payout.id, "paid")}
    runs.run_payouts()
    assert payouts_of(shop) == [payout] and len(app_stripe.transfer_log()) == 1


def _records(ids):
    return db.session.scalars(
        sa.select(CommissionRecord)
        .where(CommissionRecord.id.in_(ids))
        .execution_options(populate_existing=True)
    ).all()


def test_a_retry_a_day_later_looks_the_transfer_up_instead_of_sending_it_again(
    db_session, app_stripe
):
    from datetime import timedelta

    from tests.factories import make_admin

    shop = payable_shop(app_stripe)
    payout = failed_after_drop(shop, app_stripe)
    # A day passes on both sides: Stripe forgets the key, the portal's first send is old.
    app_stripe.control("/clock", {"advance_seconds": 25 * 3600})
    payout.key_first_sent_at -= timedelta(hours=25)
    db.session.commit()

    runs.retry_payout(payout.id, actor=make_admin())
    db.session.expire_all()
    assert payout.status == "paid"
    assert len(app_stripe.transfer_log()) == 1  # found, not sent a second time
    assert payout.stripe_transfer_id == app_stripe.transfer_log()[0]["id"]


def test_a_day_later_a_transfer_never_made_is_sent_then(db_session, app_stripe):
    from datetime import timedelta

    from tests.factories import make_admin

    shop = payable_shop(app_stripe)
    app_stripe.arm("rate_limit", times=4)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "failed" and app_stripe.transfer_log() == []
    app_stripe.control("/clock", {"advance_seconds": 25 * 3600})
    payout.key_first_sent_at -= timedelta(hours=25)
    db.session.commit()

    runs.retry_payout(payout.id, actor=make_admin())
    db.session.expire_all()
    assert payout.status == "paid" and len(app_stripe.transfer_log()) == 1


def test_a_declined_transfer_fails_with_its_reason(db_session, app_stripe):
    shop = payable_shop(app_stripe)
    app_stripe.arm("card_declined")
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "failed" and "card_declined" in payout.failure_reason
    assert net_of(shop) == 0  # its records stay with the payout for the retry, not re-grouped


def test_a_run_is_refused_while_another_process_holds_the_lock(db_session, app_stripe, app):
    shop = payable_shop(app_stripe)
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    with other.connect() as connection:
        connection.execute(sa.select(sa.func.pg_advisory_lock(runs.RUN_LOCK_KEY)))
        with pytest.raises(runs.RunLocked):
            runs.run_payouts()
        with pytest.raises(runs.RunLocked):
            runs.retry_payout(shop.id, actor=None)
        connection.execute(sa.select(sa.func.pg_advisory_unlock(runs.RUN_LOCK_KEY)))
    other.dispose()
    assert payouts_of(shop) == [] and app_stripe.transfer_log() == []
    runs.run_payouts()
    assert payouts_of(shop)[0].status == "paid"


def test_payouts_go_out_in_batches_a_refusal_failing_only_its_own(
    db_session, app_stripe, app, mailbox
):
    app_stripe.set_balance(1_000_000)
    shops = [established_shop() for _ in range(5)]
    for n, shop in enumerate(shops):
        connect(shop, app_stripe)
        settled_order(shop, f"{20 + n}.00")
    app.config["PAYOUT_SEND_BATCH"] = 2  # batches of 2, 2 and 1
    app_stripe.arm("card_declined")  # the first call of the run is refused

    runs.run_payouts()

    payouts = sorted((p for shop in shops for p in payouts_of(shop)), key=lambda p: p.id)
    assert [p.status for p in payouts] == ["failed"] + ["paid"] * 4
    log = app_stripe.transfer_log()
    assert sorted(t["metadata"]["payout_id"] for t in log) == [str(p.id) for p in payouts[1:]]
    for payout in payouts:
        assert payout.attempts == 1 and payout.key_first_sent_at is not None
    # Each paid payout mailed once; the refused one mailed as failed.
    subjects = [m["Subject"] for shop in shops for m in mailbox.to(owner_email(shop))]
    assert sum(s.startswith("Payout sent") for s in subjects) == 4
    assert sum(s.startswith("Payout failed") for s in subjects) == 1
