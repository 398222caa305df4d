"""50 redemptions and earnings for one customer at once, each on its own connection: no update is
lost, no redemption overdraws, every pending earn settles once, and the balance is the ledger."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.loyalty import points
from portal.loyalty.models import PointsBalance, PointsPendingEarn, PointsTransaction
from portal.orders import services as orders
from portal.orders.models import Order
from portal.orders.services import InvalidOrder
from tests.database import empty_all_tables
from tests.loyalty.helpers import customer, give, moment, pay, place, shop

THREADS = 50
REDEEM = 200  # points per redeeming order ($2.00 off)


@pytest.fixture
def committed_world(app):
    with app.app_context():
        yield db.session
    with app.app_context():
        empty_all_tables()


@pytest.fixture
def fifty_connections():
    """An app on the same database whose pool holds a connection for every thread at once (the
    default pool stops at 15, which would queue the rest)."""

    class Wide(TestConfig):
        SQLALCHEMY_ENGINE_OPTIONS = {
            **TestConfig.SQLALCHEMY_ENGINE_OPTIONS,
            "pool_size": THREADS,
            "max_overflow": 0,
        }

    wide = create_app(Wide)
    yield wide
    with wide.app_context():
        db.engine.dispose()


def at_once(app, calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        with app.app_context():
            db.session.connection()  # each thread holds its own connection before the start
            barrier.wait()
            try:
                results[n] = call()
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                results[n] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def redeemer(vendor_id, customer_id, n):
    def call():
        from portal.customers.models import Customer
        from portal.vendors.models import Vendor

        order = place(
            db.session.get(Vendor, vendor_id),
            db.session.get(Customer, customer_id),
            price="10.00",
            discount="2.00",
            with_points=True,
            at=moment(30) + timedelta(seconds=n),
        )
        orders.mark_paid(order, order.created_at + timedelta(seconds=1))
        return "redeemed"

    return call


def earner(closes_after):
    def call():
        return points.settle_due(closes_after)

    return call


def test_concurrent_redemptions_and_earnings_keep_the_ledger(
    app, committed_world, fifty_connections
):
    vendor, buyer = shop(), customer()
    give(buyer, 3000, at=moment(0))
    # 25 paid orders whose points are pending; the earning threads settle them concurrently.
    earning_orders = [
        pay(place(vendor, buyer, price=f"{20 + n}.00", at=moment(1))) for n in range(25)
    ]
    expected_earned = sum(20 + n for n in range(25))
    committed_world.commit()
    closes = max(o.paid_at for o in earning_orders) + timedelta(
        days=app.config["ORDER_AUTO_COMPLETE_DAYS"] + app.config["RETURN_WINDOW_DAYS"]
    )
    customer_id = buyer.id

    # A shop per redeeming thread: one shop's order numbers would queue them up before the points.
    shops = [shop().id for _ in range(THREADS // 2)]
    committed_world.commit()
    calls = []
    for n in range(THREADS):
        if n % 2:
            calls.append(earner(closes + timedelta(minutes=n)))
        else:
            calls.append(redeemer(shops[n // 2], customer_id, n))
    results = at_once(fifty_connections, calls)

    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, InvalidOrder) and "free" in str(r) for r in refused), refused
    redeemed_count = results.count("redeemed")
    session = committed_world
    session.expire_all()
    ledger = session.scalars(
        sa.select(PointsTransaction).where(PointsTransaction.customer_id == customer_id)
    ).all()
    balance = session.scalar(
        sa.select(PointsBalance).where(PointsBalance.customer_id == customer_id)
    )
    by_type = Counter()
    for row in ledger:
        by_type[row.type] += row.amount
        assert row.balance_after == row.balance_before + row.amount >= 0
    # Every pending earn settled exactly once, whichever thread got it.
    assert by_type["earned"] == expected_earned
    assert len([r for r in ledger if r.type == "earned"]) == 25
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(PointsPendingEarn)
            .where(PointsPendingEarn.order_id.in_([o.id for o in earning_orders]))
        )
        == 0
    )
    # Each accepted redemption is one row; none was refused while the points were there.
    assert by_type["redeemed"] == -REDEEM * redeemed_count
    assert redeemed_count >= 3000 // REDEEM
    assert balance.current_balance == sum(row.amount for row in ledger) >= 0
    assert balance.lifetime_redeemed == REDEEM * redeemed_count
    assert balance.lifetime_earned == expected_earned
    # No lost update: the rows chain from 0 to the balance (each row's balance_before is some
    # earlier row's balance_after), the degree condition of one path through every row.
    out_minus_in = Counter()
    for row in ledger:
        out_minus_in[row.balance_before] += 1
        out_minus_in[row.balance_after] -= 1
    expected = Counter({0: 1})
    expected[balance.current_balance] -= 1
    assert +out_minus_in == +expected and -out_minus_in == -expected
    paid = session.scalar(
        sa.select(sa.func.count())
        .select_from(Order)
        .where(Order.customer_id == customer_id, Order.points_discount > 0)
    )
    assert paid == redeemed_count
