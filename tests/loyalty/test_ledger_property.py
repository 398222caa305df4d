"""Random sequences of earn, hold, redeem, release, expire, adjust and refund, checked after every
step against a model of the balance written here from PRODUCT.md's rules (eager FIFO credits, its
own tier table), not from the service's arithmetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.loyalty import points
from portal.loyalty.models import PointsClawbackShortfall, PointsTransaction
from portal.orders import services as orders
from portal.orders.services import InvalidOrder
from tests.loyalty.helpers import admin, balance, customer, moment, place, shop

EXPIRY_MONTHS = 12
WINDOW_DAYS = 14 + 7  # auto-completion after payment, then the return window
TIERS = [(5000, "gold", 150), (1000, "silver", 125), (0, "bronze", 100)]


def tier_of(lifetime: int) -> tuple[str, int]:
    return next((name, pct) for start, name, pct in TIERS if lifetime >= start)


def months_later(at: datetime, months: int) -> datetime:
    return points.add_months(at, months)  # calendar arithmetic only, no points rule


@dataclass
class ModelOrder:
    order: object
    price: int  # whole dollars of merchandise
    discount_points: int
    hold: int = 0  # points still held for it
    paid: bool = False
    pending: int = 0  # points waiting for the window
    pending_until: datetime | None = None
    earned: int = 0  # settled points not yet clawed back (or short)
    redeemed: int = 0  # points spent on it, not yet returned
    over: bool = False


@dataclass
class Model:
    now: datetime
    balance: int = 0
    lifetime: int = 0
    shortfall: int = 0
    credits: list = field(default_factory=list)  # [expires_at, points left]
    orders: list = field(default_factory=list)

    def credit(self, amount: int, at: datetime) -> None:
        self.credits.append([months_later(at, EXPIRY_MONTHS), amount])
        self.balance += amount

    def debit(self, amount: int) -> None:
        self.balance -= amount
        for entry in sorted(self.credits, key=lambda c: c[0]):
            take = min(entry[1], amount)
            entry[1] -= take
            amount -= take
        assert amount == 0

    @property
    def held(self) -> int:
        return sum(o.hold for o in self.orders)

    @property
    def pending(self) -> int:
        return sum(o.pending for o in self.orders)


ops = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 400)),
    st.tuples(st.just("hold"), st.integers(1, 12)),  # dollars off a $15 order
    st.tuples(st.just("redeem"), st.integers(0, 5)),
    st.tuples(st.just("release"), st.integers(0, 5)),
    st.tuples(st.just("adjust"), st.integers(-600, 900)),
    st.tuples(st.just("refund"), st.integers(0, 5)),
    st.tuples(st.just("pass"), st.sampled_from([1, 25, 150, 340])),
)


def _pick(model: Model, n: int, test):
    found = [o for o in model.orders if test(o)]
    return found[n % len(found)] if found else None


def apply(model: Model, vendor, buyer, boss, op) -> None:
    kind, arg = op
    model.now += timedelta(minutes=1)
    now = model.now
    if kind == "earn":
        order = place(vendor, buyer, price=f"{arg}.00", at=now)
        orders.mark_paid(order, now)
        entry = ModelOrder(order, arg, 0, paid=True)
        _model_pay(model, entry, now)
        model.orders.append(entry)
    elif kind == "hold":
        wanted = arg * 100
        if wanted > model.balance - model.held:
            with pytest.raises(InvalidOrder), db.session.begin_nested():
                place(vendor, buyer, price="15.00", discount=f"{arg}.00", with_points=True, at=now)
            return
        order = place(vendor, buyer, price="15.00", discount=f"{arg}.00", with_points=True, at=now)
        model.orders.append(ModelOrder(order, 15, wanted, hold=wanted))
    elif kind == "redeem":
        entry = _pick(model, arg, lambda o: not o.paid and not o.over)
        if entry is None:
            return
        orders.mark_paid(entry.order, now)
        spent = min(entry.hold, model.balance)
        entry.hold = 0
        if spent:
            model.debit(spent)
            entry.redeemed = spent
        entry.paid = True
        _model_pay(model, entry, now)
    elif kind == "release":
        entry = _pick(model, arg, lambda o: not o.paid and not o.over)
        if entry is None:
            return
        orders.cancel_order(entry.order, now)
        entry.hold, entry.over = 0, True
    elif kind == "adjust":
        if arg == 0:
            return
        if model.balance + arg < 0:
            with pytest.raises(points.NotEnoughPoints):
                points.adjust(buyer.id, arg, "model", actor=boss, at=now)
            return
        points.adjust(buyer.id, arg, "model", actor=boss, at=now)
        model.credit(arg, now) if arg > 0 else model.debit(-arg)
    elif kind == "refund":
        entry = _pick(model, arg, lambda o: o.paid and not o.over)
        if entry is None:
            return
        left = entry.order.total - entry.order.refunded_amount
        orders.refund_order(entry.order, left, f"re-{id(entry)}", at=now)
        entry.over = True
        entry.pending = 0
        if entry.earned:
            taken = min(entry.earned, model.balance)
            model.debit(taken)
            model.shortfall += entry.earned - taken
            model.lifetime -= entry.earned
            entry.earned = 0
        if entry.redeemed:
            model.credit(entry.redeemed, now)
            entry.redeemed = 0
    elif kind == "pass":
        model.now = now = now + timedelta(days=arg)
        points.settle_due(now)
        points.release_expired_holds(now)
        points.expire_due(now)
        for entry in model.orders:
            if entry.pending and entry.pending_until <= now:
                model.credit(entry.pending, now)
                model.lifetime += entry.pending
                entry.earned, entry.pending = entry.pending, 0
            entry.hold = 0  # a day is past every hold's hour
        for entry in model.credits:
            if entry[0] <= now and entry[1]:
                model.balance -= entry[1]
                entry[1] = 0


def _model_pay(model: Model, entry: ModelOrder, at: datetime) -> None:
    money = entry.price - entry.discount_points // 100
    _, pct = tier_of(model.lifetime)
    entry.pending = money * pct // 100
    entry.pending_until = at + timedelta(days=WINDOW_DAYS)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ops, min_size=1, max_size=14))
def test_ledger_matches_an_independent_model(db_session, sequence):
    with db.session.begin_nested() as example:
        vendor, buyer, boss = shop(), customer(), admin()
        model = Model(now=moment())
        for op in sequence:
            apply(model, vendor, buyer, boss, op)
            row = balance(buyer)
            ledger = db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(PointsTransaction.amount), 0)).where(
                    PointsTransaction.customer_id == buyer.id
                )
            )
            current = row.current_balance if row else 0
            assert current == ledger == model.balance, (op, model)
            assert current >= 0
            assert (row.lifetime_earned if row else 0) == model.lifetime
            assert (row.tier if row else "bronze") == tier_of(model.lifetime)[0]
            assert points.held_points(buyer.id) == model.held
            assert points.pending_points(buyer.id) == model.pending
            short = db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(PointsClawbackShortfall.points), 0)).where(
                    PointsClawbackShortfall.customer_id == buyer.id
                )
            )
            assert short == model.shortfall
        assert points.liability(model.now).points >= model.balance
        example.rollback()
