"""The money invariant, for random orders and random refund sequences.

Per order and in total: Σ order_amount = Σ vendor net + Σ commission + Σ fee to the cent, the
merchandise left equals Σ order_amount, a full refund brings every sum to exactly 0, and no
reversal ever goes beyond the sale. Checked on the pure arithmetic with many examples, and through
the real intake service on the database with fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.commissions.services import (
    amount_at_rate,
    merchandise_refunded,
    reversal_amount,
    vendor_net,
)
from portal.extensions import db
from portal.money import to_money
from portal.orders.intake import apply_order_event
from portal.tiers.models import ShopTier
from tests.factories import make_customer
from tests.orders.helpers import established_shop, follow_up, money_sums, placed, refunded

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(n: int) -> Decimal:
    return Decimal(n) * CENT


rates = st.integers(min_value=0, max_value=3000).map(lambda n: Decimal(n) / 10000)


@st.composite
def orders(draw):
    subtotal = draw(st.integers(min_value=1, max_value=500_000))
    delivery_fee = draw(st.sampled_from([0, 0, 1, 299, 499, 1500]))
    points = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=subtotal)))
    total = subtotal + delivery_fee - points
    # Refunds as fractions of what is left, ending either partially or in full.
    fractions = draw(st.lists(st.integers(min_value=1, max_value=100), max_size=6))
    refund_all = draw(st.booleans())
    refunds, left = [], total
    for percent in fractions:
        amount = max(1, left * percent // 100)
        if left == 0 or amount > left:
            break
        refunds.append(amount)
        left -= amount
    if refund_all and left > 0:
        refunds.append(left)
    return {
        "subtotal": cents(subtotal),
        "delivery_fee": cents(delivery_fee),
        "points_discount": cents(points),
        "total": cents(total),
        "commission_rate": draw(rates),
        "fee_rate": draw(st.integers(min_value=0, max_value=500).map(lambda n: Decimal(n) / 10000)),
        "refunds": [cents(r) for r in refunds],
    }


@dataclass
class Ledger:
    """An order's rows as the services write them: (order_amount, commission, fee) per row."""

    subtotal: Decimal
    total: Decimal
    rows: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list)
    refunded_amount: Decimal = ZERO
    refunded_subtotal: Decimal = ZERO


def simulate(order) -> Ledger:
    ledger = Ledger(order["subtotal"], order["total"])
    sale_commission = amount_at_rate(order["subtotal"], order["commission_rate"])
    sale_fee = amount_at_rate(order["subtotal"], order["fee_rate"])
    ledger.rows.append((order["subtotal"], sale_commission, sale_fee))
    for amount in order["refunds"]:
        before = ledger.refunded_subtotal
        after = merchandise_refunded(ledger.subtotal, ledger.total, ledger.refunded_amount + amount)
        commission = reversal_amount(sale_commission, ledger.subtotal, before, after)
        fee = reversal_amount(sale_fee, ledger.subtotal, before, after)
        assert commission >= 0 and fee >= 0  # a reversal is never a charge
        ledger.rows.append((-(after - before), -commission, -fee))
        ledger.refunded_amount += amount
        ledger.refunded_subtotal = after
    return ledger


def sums(rows) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    order_amount = sum((r[0] for r in rows), ZERO)
    commission = sum((r[1] for r in rows), ZERO)
    fee = sum((r[2] for r in rows), ZERO)
    net = sum((vendor_net(*r) for r in rows), ZERO)
    return order_amount, commission, fee, net


def check_order(ledger: Ledger, *, fully_refunded: bool) -> None:
    _, sale_commission, sale_fee = ledger.rows[0]
    order_amount, commission, fee, net = sums(ledger.rows)
    assert order_amount == net + commission + fee
    assert all(value == value.quantize(CENT) for row in ledger.rows for value in row)
    assert order_amount == ledger.subtotal - ledger.refunded_subtotal
    assert ZERO <= ledger.refunded_subtotal <= ledger.subtotal
    # Never reversed beyond the sale, at any point of the sequence.
    for end in range(1, len(ledger.rows) + 1):
        _, remaining_commission, remaining_fee, _ = sums(ledger.rows[:end])
        assert ZERO <= remaining_commission <= sale_commission
        assert ZERO <= remaining_fee <= sale_fee
    # No drift: what is left is what one computation on the remaining merchandise gives.
    if ledger.refunded_subtotal < ledger.subtotal:
        left_share = (ledger.subtotal - ledger.refunded_subtotal) / ledger.subtotal
        assert abs(commission - sale_commission * left_share) <= CENT
    assert net >= ZERO
    if fully_refunded:
        assert (order_amount, commission, fee, net) == (ZERO, ZERO, ZERO, ZERO)


@settings(max_examples=600, deadline=None)
@given(st.lists(orders(), min_size=1, max_size=8))
def test_invariant_holds_for_random_orders_and_refunds(generated):
    all_rows = []
    for order in generated:
        ledger = simulate(order)
        fully = sum(order["refunds"], ZERO) == order["total"] and bool(order["refunds"])
        check_order(
            ledger, fully_refunded=fully or (order["total"] == 0 and bool(order["refunds"]))
        )
        all_rows.extend(ledger.rows)
    order_amount, commission, fee, net = sums(all_rows)
    assert order_amount == net + commission + fee


@settings(max_examples=300, deadline=None)
@given(orders())
def test_a_full_refund_in_any_number_of_steps_reverses_exactly(order):
    left = order["total"] - sum(order["refunds"], ZERO)
    if left > 0:
        order["refunds"].append(left)
    if order["total"] == 0:
        return  # nothing to refund in money; cancellation covers it (tested through intake)
    ledger = simulate(order)
    check_order(ledger, fully_refunded=True)
    assert ledger.refunded_subtotal == order["subtotal"]


def test_merchandise_share_is_cumulative_and_exact_at_the_end():
    subtotal, total = Decimal("10.00"), Decimal("13.00")
    shares, refunded, before = [], ZERO, ZERO
    for _ in range(13):
        refunded += Decimal("1.00")
        after = merchandise_refunded(subtotal, total, refunded)
        shares.append(after - before)
        before = after
    assert sum(shares) == subtotal and set(shares) == {Decimal("0.76"), Decimal("0.77")}


# --- through the real intake service -------------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=st.lists(orders(), min_size=1, max_size=3))
def test_invariant_holds_through_intake(db_session, generated):
    schedules = current_app.config["PLATFORM_FEE_SCHEDULES"]
    savepoint = db.session.begin_nested()
    try:
        shop = established_shop()
        make_customer(email="buyer@example.com")
        totals = dict.fromkeys(("order_amount", "commission", "fee", "net"), ZERO)
        for n, order in enumerate(generated):
            shop_tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop.id))
            shop_tier.commission_rate = order["commission_rate"]
            db.session.flush()
            current_app.config["PLATFORM_FEE_SCHEDULES"] = {
                "shop": (("standard", None, order["fee_rate"]),)
            }
            event = placed(
                shop,
                items=[(str(order["subtotal"]), 1)],
                delivery_fee=str(order["delivery_fee"]),
                points_discount=str(order["points_discount"]),
            )
            intake_order = apply_order_event(event).order
            apply_order_event(follow_up(event.external_id, "order.paid"))
            for amount in order["refunds"]:
                apply_order_event(refunded(event.external_id, str(amount)))
            cancel = n % 2 == 1 and intake_order.status != "refunded"
            if cancel:
                apply_order_event(follow_up(event.external_id, "order.canceled"))

            result = money_sums(intake_order)
            assert result["order_amount"] == result["fee_order_amount"]
            assert result["order_amount"] == result["net"] + result["commission"] + result["fee"]
            assert result["order_amount"] == intake_order.subtotal - intake_order.refunded_subtotal
            sale_commission = to_money(order["subtotal"] * order["commission_rate"])
            sale_fee = to_money(order["subtotal"] * order["fee_rate"])
            assert ZERO <= result["commission"] <= sale_commission
            assert ZERO <= result["fee"] <= sale_fee
            if cancel or intake_order.status == "refunded":
                assert all(value == ZERO for value in result.values())
            for key in totals:
                totals[key] += result[key]
        assert totals["order_amount"] == totals["net"] + totals["commission"] + totals["fee"]
    finally:
        current_app.config["PLATFORM_FEE_SCHEDULES"] = schedules
        savepoint.rollback()
