"""Exactly once: a worker process killed (SIGKILL) at each step of a run, then run again.

Each test commits its data (a separate process cannot see a test's transaction), runs
``tests/payouts/run_worker.py`` against the test database and the local Stripe server over HTTP,
and checks the outcome against the server's own log of the transfers it made.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.payouts.models import Payout
from portal.payouts.payable import payable_records
from tests.database import empty_all_tables
from tests.orders.helpers import established_shop
from tests.payouts.helpers import connect, settled_order
from tests.payouts.run_worker import LOCKED

VENDORS = 3


@pytest.fixture
def committed_shops(app, app_stripe):
    """Three onboarded shops with settled orders, committed; every table emptied afterwards."""
    with app.app_context():
        app_stripe.set_balance(1_000_000)
        shops = []
        for n in range(VENDORS):
            shop = established_shop()
            connect(shop, app_stripe)
            settled_order(shop, f"{40 + n}.00", refund="5.00")
            settled_order(shop, "25.00")
            shops.append(shop)
        nets = {
            shop.id: sum(r.vendor_net for r in db.session.execute(payable_records(shop.id)))
            for shop in shops
        }
        db.session.commit()
        try:
            yield nets
        finally:
            db.session.rollback()
            empty_all_tables()


def worker(server, failpoint: str | None = None, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_FAILPOINT"}
    if failpoint:
        env["PORTAL_FAILPOINT"] = failpoint
    return subprocess.Popen(
        [sys.executable, "-m", "tests.payouts.run_worker", server.url, "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def run_worker(server, failpoint: str | None = None) -> int:
    process = worker(server, failpoint)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (0, -signal.SIGKILL, LOCKED), stderr.decode()
    return process.returncode


def assert_paid_exactly_once(server, nets) -> None:
    db.session.expire_all()
    log = server.transfer_log()
    by_destination = {}
    for transfer in log:
        by_destination.setdefault(transfer["destination"], []).append(transfer)
    payouts = db.session.scalars(sa.select(Payout)).all()
    assert len(payouts) == len(nets)  # one payout per vendor, across every run
    for payout in payouts:
        account = payout.vendor.connected_account.stripe_account_id
        [transfer] = by_destination.pop(account)  # exactly one transfer to each vendor
        assert transfer["id"] == payout.stripe_transfer_id
        assert transfer["metadata"]["payout_id"] == str(payout.id)
        assert transfer["amount"] == int(nets[payout.vendor_id] * 100)
        assert payout.status == "paid" and payout.amount == nets[payout.vendor_id]
        records = db.session.execute(
            sa.select(CommissionRecord.id, CommissionRecord.status).where(
                CommissionRecord.shop_id == payout.vendor_id
            )
        ).all()
        assert sorted(r.id for r in records) == sorted(payout.commission_ids)  # none lost
        assert {r.status for r in records} == {"paid"}
    assert by_destination == {}


POINTS = [
    "after_payout_rows_commit",
    "after_key_saved",
    "after_transfer_call",
    "after_update_before_commit",
    "records_half_marked",
]


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_each_step_and_run_again_pays_every_vendor_exactly_once(
    app, app_stripe, committed_shops, point
):
    assert run_worker(app_stripe, point) == -signal.SIGKILL
    with app.app_context():
        made = len(app_stripe.transfer_log())
        paid = db.session.scalar(
            sa.select(sa.func.count()).select_from(Payout).where(Payout.status == "paid")
        )
        # What the kill left: Stripe made transfers the database may not know of yet. A batch's
        # keys are saved before its first call and its statuses after its last (all three
        # vendors are one batch), so the update before its commit follows every call.
        expected_made = {
            "after_payout_rows_commit": 0,
            "after_key_saved": 0,
            "after_update_before_commit": VENDORS,
        }.get(point, 1)
        if point == "records_half_marked":
            expected_made = VENDORS
        assert made == expected_made
        if point == "after_key_saved":
            # The batch's keys were saved in one commit before its first call.
            saved = db.session.execute(sa.select(Payout.key_first_sent_at, Payout.attempts)).all()
            assert len(saved) == VENDORS and all(at and tries == 1 for at, tries in saved)
        assert paid == (VENDORS if point == "records_half_marked" else 0)
        if point == "records_half_marked":
            # Killed after the marking job's first batch (one record): the rest wait, still
            # claimed by their paid payouts, so nothing is payable again meanwhile.
            stored = db.session.scalars(sa.select(CommissionRecord.status)).all()
            assert sorted(stored).count("paid") == 1 and len(stored) > 1
            assert db.session.execute(payable_records()).all() == []

    assert run_worker(app_stripe) == 0
    with app.app_context():
        assert_paid_exactly_once(app_stripe, committed_shops)


def test_killed_after_the_transfer_and_run_again_a_day_later_looks_it_up(
    app, app_stripe, committed_shops
):
    assert run_worker(app_stripe, "after_transfer_call") == -signal.SIGKILL
    with app.app_context():
        # A day passes: Stripe forgets the key, and the portal's first send is a day old.
        app_stripe.control("/clock", {"advance_seconds": 25 * 3600})
        db.session.execute(
            sa.update(Payout).values(
                key_first_sent_at=Payout.key_first_sent_at - timedelta(hours=25)
            )
        )
        db.session.commit()
    assert run_worker(app_stripe) == 0
    with app.app_context():
        assert_paid_exactly_once(app_stripe, committed_shops)


def wait_until_stopped(process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{process.pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    raise AssertionError("the worker never reached its failpoint")


def test_a_run_started_while_another_is_sending_is_refused_by_the_lock(
    app, app_stripe, committed_shops
):
    first = worker(app_stripe, "after_payout_rows_commit:stop")
    try:
        wait_until_stopped(first)  # frozen holding the lock, its payouts committed
        assert run_worker(app_stripe) == LOCKED
        assert app_stripe.transfer_log() == []
    finally:
        first.send_signal(signal.SIGCONT)
    first.communicate(timeout=120)
    assert first.returncode == 0
    with app.app_context():
        assert_paid_exactly_once(app_stripe, committed_shops)


def test_two_runs_started_at_once_never_both_pay(app, app_stripe, committed_shops):
    processes = [worker(app_stripe) for _ in range(2)]
    for process in processes:
        process.communicate(timeout=120)
    codes = sorted(process.returncode for process in processes)
    assert codes in ([0, 0], [0, LOCKED])
    with app.app_context():
        assert_paid_exactly_once(app_stripe, committed_shops)
