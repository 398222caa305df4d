"""Drivers in the payout run, against the local Stripe server over HTTP: one payout per driver of
their settled earnings (pay plus tips), once; held without payouts enabled; a dropped answer and
an admin's retry, or a transfer webhook, never pay twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.clock import utcnow
from portal.extensions import db
from portal.payouts import runs
from portal.payouts.driver_earnings import settle_due_driver_earnings
from portal.payouts.driver_models import DriverPayoutHold, PayoutRunDriverHold
from portal.payouts.models import Payout
from portal.payouts.transfer_events import on_transfer_event
from tests.deliveries.helpers import verified_driver
from tests.factories import make_admin
from tests.payouts.driver_helpers import (
    delivered_for,
    driver_payouts,
    earning_driver,
    earnings_of,
)
from tests.payouts.helpers import net_of, payable_shop, payouts_of


def transfers_to(server, payout) -> list[dict]:
    return [t for t in server.transfer_log() if t["metadata"]["payout_id"] == str(payout.id)]


def test_a_run_pays_vendors_and_drivers_once_each(db_session, app_stripe):
    shop = payable_shop(app_stripe)
    vendor_net = net_of(shop)
    driver = earning_driver(app_stripe, earnings=(("8.00", "2.00"), ("6.25", "0.00")))
    earnings = earnings_of(driver)

    run = runs.run_payouts(trigger="schedule")

    assert run.status == "finished"
    [vendor_payout] = payouts_of(shop)
    assert vendor_payout.status == "paid" and vendor_payout.amount == vendor_net
    [payout] = driver_payouts(driver)
    assert (payout.batch_id, payout.status, payout.amount) == (run.id, "paid", Decimal("16.25"))
    assert payout.vendor_id is None and payout.vendor_type is None and not payout.commission_ids
    assert sorted(payout.earning_ids) == sorted(e.id for e in earnings)
    assert {(e.status, e.payout_id) for e in earnings_of(driver)} == {("paid", payout.id)}
    [transfer] = transfers_to(app_stripe, payout)
    assert transfer["id"] == payout.stripe_transfer_id and transfer["amount"] == 1625
    assert transfer["idempotency_key"] == payout.idempotency_key == f"payout-{payout.id}"
    assert transfer["destination"] == driver_account(driver)

    again = runs.run_payouts(trigger="schedule")
    assert db.session.scalar(sa.select(sa.func.count()).where(Payout.batch_id == again.id)) == 0
    assert len(app_stripe.transfer_log()) == 2


def driver_account(driver) -> str:
    from portal.payouts.models import ConnectedAccount

    return db.session.scalar(
        sa.select(ConnectedAccount.stripe_account_id).where(ConnectedAccount.driver_id == driver.id)
    )


def test_earnings_are_paid_only_once_settled(db_session, app_stripe, app):
    app_stripe.set_balance(1_000_000)
    driver = earning_driver(app_stripe, earnings=())
    recent = delivered_for(driver, "9.00", "1.00", days_ago=1)
    settle_due_driver_earnings(utcnow())
    [earning] = earnings_of(driver)
    assert (earning.delivery_id, earning.status) == (recent.id, "pending")

    runs.run_payouts()
    assert driver_payouts(driver) == []

    days = app.config["DRIVER_EARNINGS_SETTLE_DAYS"]
    assert settle_due_driver_earnings(utcnow() + timedelta(days=days)) == 1
    assert settle_due_driver_earnings(utcnow() + timedelta(days=days)) == 0
    runs.run_payouts()
    [payout] = driver_payouts(driver)
    assert payout.status == "paid" and payout.amount == Decimal("10.00")


def test_a_driver_without_payouts_enabled_or_an_account_is_held_not_failed(db_session, app_stripe):
    app_stripe.set_balance(1_000_000)
    disabled = earning_driver(app_stripe, onboard=False)
    no_account = earning_driver(onboard=None)

    run = runs.run_payouts()

    for driver, reason in ((disabled, "payouts_disabled"), (no_account, "no_account")):
        assert driver_payouts(driver) == []
        assert {e.status for e in earnings_of(driver)} == {"settled"}
        hold = db.session.get(DriverPayoutHold, driver.id)
        assert (hold.reason, hold.amount_waiting, hold.last_run_id) == (
            reason,
            Decimal("10.00"),
            run.id,
        )
        assert db.session.get(PayoutRunDriverHold, (run.id, driver.id)).reason == reason
    assert app_stripe.transfer_log() == []

    # Enabled since: the next run pays the waiting earnings and lifts the hold.
    app_stripe.onboard(driver_account(disabled))
    from portal.payouts import onboarding

    onboarding.refresh_account(disabled)
    runs.run_payouts()
    [payout] = driver_payouts(disabled)
    assert payout.status == "paid" and payout.amount == Decimal("10.00")
    assert db.session.get(DriverPayoutHold, disabled.id) is None


def dropped_driver_payout(server):
    """A driver's payout whose transfer Stripe made, but whose answer never arrived (failed)."""
    driver = earning_driver(server)
    server.set_balance(1_000_000)
    server.arm("drop_after")
    server.arm("rate_limit", times=3)
    runs.run_payouts()
    [payout] = driver_payouts(driver)
    return driver, payout


def test_a_dropped_answer_then_an_admins_retry_pays_the_driver_once(db_session, app_stripe):
    driver, payout = dropped_driver_payout(app_stripe)
    assert payout.status == "failed" and payout.failure_reason
    assert len(app_stripe.transfer_log()) == 1  # made, though the portal does not know it
    assert {e.status for e in earnings_of(driver)} == {"settled"}
    # A later run does not group the failed payout's earnings a second way.
    runs.run_payouts()
    assert len(driver_payouts(driver)) == 1

    runs.retry_payout(payout.id, actor=make_admin())
    db.session.expire_all()
    assert payout.status == "paid"
    [transfer] = transfers_to(app_stripe, payout)
    assert payout.stripe_transfer_id == transfer["id"]
    assert len(app_stripe.transfer_log()) == 1
    assert {(e.status, e.payout_id) for e in earnings_of(driver)} == {("paid", payout.id)}


def test_a_transfer_webhook_records_a_driver_payout_the_portal_never_heard_back_about(
    db_session, app_stripe
):
    driver, payout = dropped_driver_payout(app_stripe)
    app_stripe.control("/events/wait", {"timeout": 5})
    [created] = [
        e["data"]["object"] for e in app_stripe.events() if e["type"] == "transfer.created"
    ]

    assert on_transfer_event("transfer.created", created) == payout
    on_transfer_event("transfer.created", created)  # a replay changes nothing
    db.session.expire_all()
    assert payout.status == "paid" and payout.stripe_transfer_id == created["id"]
    assert {e.status for e in earnings_of(driver)} == {"paid"}
    assert len(app_stripe.transfer_log()) == 1


def test_a_short_balance_pays_the_vendors_first_and_the_driver_waits(db_session, app_stripe):
    shop = payable_shop(app_stripe)
    driver = earning_driver(app_stripe)
    app_stripe.set_balance(int(net_of(shop) * 100) + 500)  # the shop's net and $5 more

    run = runs.run_payouts()

    assert payouts_of(shop)[0].status == "paid"
    assert driver_payouts(driver) == []
    assert db.session.get(PayoutRunDriverHold, (run.id, driver.id)).reason == "platform_balance"


def test_a_delivered_delivery_writes_its_earning_once(db_session):
    driver = verified_driver()
    delivery = delivered_for(driver, "7.10", "3.05")
    from portal.payouts.driver_earnings import record_earning

    record_earning(delivery, utcnow())  # the step replayed: nothing more
    [earning] = earnings_of(driver)
    assert (earning.pay, earning.tip, earning.amount) == (
        Decimal("7.10"),
        Decimal("3.05"),
        Decimal("10.15"),
    )
