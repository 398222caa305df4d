"""Exactly once, with drivers: a worker killed (SIGKILL) at each step of a run that pays a shop
and two drivers, then run again, pays each of them exactly once, checked against the local Stripe
server's own log (the worker and the checks of ``test_run_interrupted.py``)."""

from __future__ import annotations

import signal
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.payouts.driver_models import DriverEarning
from portal.payouts.models import ConnectedAccount, Payout
from portal.payouts.payable import payable_records
from tests.database import empty_all_tables
from tests.orders.helpers import established_shop
from tests.payouts.driver_helpers import earning_driver
from tests.payouts.helpers import connect, settled_order
from tests.payouts.test_run_interrupted import POINTS, run_worker

DRIVER_EARNINGS = ((("8.00", "2.00"), ("5.50", "1.25")), (("6.00", "0.00"),))


@pytest.fixture
def committed_payees(app, app_stripe):
    """An onboarded shop with a settled order and two onboarded drivers with settled earnings,
    committed: {account id: what it is owed}. Every table emptied afterwards."""
    with app.app_context():
        app_stripe.set_balance(1_000_000)
        shop = established_shop()
        account = connect(shop, app_stripe)
        settled_order(shop, "40.00", refund="5.00")
        owed = {
            account.stripe_account_id: sum(
                r.vendor_net for r in db.session.execute(payable_records(shop.id))
            )
        }
        for earnings in DRIVER_EARNINGS:
            driver = earning_driver(app_stripe, earnings=earnings)
            account_id = db.session.scalar(
                sa.select(ConnectedAccount.stripe_account_id).where(
                    ConnectedAccount.driver_id == driver.id
                )
            )
            owed[account_id] = sum(Decimal(pay) + Decimal(tip) for pay, tip in earnings)
        db.session.commit()
        try:
            yield owed
        finally:
            db.session.rollback()
            empty_all_tables()


def assert_each_paid_exactly_once(server, owed) -> None:
    db.session.expire_all()
    transfers: dict[str, list] = {}
    for transfer in server.transfer_log():
        transfers.setdefault(transfer["destination"], []).append(transfer)
    assert {account: len(made) for account, made in transfers.items()} == dict.fromkeys(owed, 1)
    payouts = db.session.scalars(sa.select(Payout)).all()
    assert len(payouts) == len(owed)  # one payout per shop and per driver, across every run
    for payout in payouts:
        holder = (
            ConnectedAccount.driver_id == payout.driver_id
            if payout.driver_id
            else ConnectedAccount.vendor_id == payout.vendor_id
        )
        account = db.session.scalar(sa.select(ConnectedAccount.stripe_account_id).where(holder))
        [transfer] = transfers[account]
        assert (payout.status, payout.stripe_transfer_id) == ("paid", transfer["id"])
        assert payout.amount == owed[account] and transfer["amount"] == int(owed[account] * 100)
    earnings = db.session.execute(sa.select(DriverEarning.status, DriverEarning.payout_id)).all()
    assert earnings and {status for status, _ in earnings} == {"paid"}
    assert all(payout_id is not None for _, payout_id in earnings)


@pytest.mark.parametrize("point", POINTS)
def test_a_run_of_shops_and_drivers_killed_at_each_step_pays_each_exactly_once(
    app, app_stripe, committed_payees, point
):
    assert run_worker(app_stripe, point) == -signal.SIGKILL
    assert run_worker(app_stripe) == 0
    with app.app_context():
        assert_each_paid_exactly_once(app_stripe, committed_payees)
