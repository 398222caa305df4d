"""The money invariant, for random orders and random sequences of line, delivery, pro-rata refunds.

The oracle is written here, from docs/money.md, and calls none of the code's money functions:
after every refund the commission and fee left equal round_half_up(sale amount x merchandise left
/ subtotal), nothing is reversed beyond the sale, a refund that names lines returns their unit
prices less their part of the points discount (and takes exactly that merchandise), one that names
the delivery fee leaves the merchandise alone, and a full refund brings every sum to exactly 0.
Checked on the pure arithmetic with many examples, and through the real intake on the database
with fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.commissions.services import amount_at_rate, reversal_amount
from portal.extensions import db
from portal.orders import refund_rule
from portal.orders.intake import apply_order_event
from portal.orders.models import OrderRefund
from portal.tiers.models import ShopTier
from tests.factories import make_customer
from tests.orders.helpers import established_shop, follow_up, money_sums, placed, refunded

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(n: int) -> Decimal:
    return Decimal(n) * CENT


# --- the oracle: docs/money.md, independently ------------------------------------------------


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def left_of(sale_amount: Decimal, subtotal: Decimal, merchandise_left: Decimal) -> Decimal:
    """round_half_up(sale amount x merchandise left / subtotal)."""
    if subtotal == 0:
        return ZERO
    return half_up(sale_amount * merchandise_left / subtotal)


def points_returned(points: Decimal, subtotal: Decimal, merchandise_refunded: Decimal) -> Decimal:
    if merchandise_refunded >= subtotal:
        return points
    return half_up(points * merchandise_refunded / subtotal)


def named_amount(order, refunded_before: Decimal, merchandise: Decimal, delivery: Decimal):
    """The money a refund naming ``merchandise`` of lines and ``delivery`` returns."""
    after = refunded_before + merchandise
    points = points_returned(order["points"], order["subtotal"], after) - points_returned(
        order["points"], order["subtotal"], refunded_before
    )
    return merchandise - points + delivery


# --- random orders and refund sequences ------------------------------------------------------

rates = st.integers(min_value=0, max_value=3000).map(lambda n: Decimal(n) / 10000)
refund_steps = st.one_of(
    # (kind, line index or percent, quantity)
    st.tuples(st.just("line"), st.integers(min_value=0, max_value=3), st.integers(1, 3)),
    st.tuples(st.just("delivery"), st.integers(min_value=1, max_value=100), st.just(0)),
    st.tuples(st.just("pro_rata"), st.integers(min_value=1, max_value=100), st.just(0)),
)


@st.composite
def orders(draw):
    lines = draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=60_000), st.integers(1, 4)),
            min_size=1,
            max_size=4,
        )
    )
    subtotal = sum(price * qty for price, qty in lines)
    delivery_fee = draw(st.sampled_from([0, 0, 1, 299, 499, 1500]))
    points = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=subtotal)))
    return {
        "lines": [(cents(price), qty) for price, qty in lines],
        "subtotal": cents(subtotal),
        "delivery_fee": cents(delivery_fee),
        "points": cents(points),
        "total": cents(subtotal + delivery_fee - points),
        "commission_rate": draw(rates),
        "fee_rate": draw(st.integers(min_value=0, max_value=500).map(lambda n: Decimal(n) / 10000)),
        "steps": draw(st.lists(refund_steps, max_size=7)),
        "refund_rest": draw(st.booleans()),
    }


@dataclass
class Tracked:
    """What the oracle knows of an order after each refund, and what the code recorded."""

    order: dict
    sale_commission: Decimal
    sale_fee: Decimal
    refunded_amount: Decimal = ZERO
    refunded_subtotal: Decimal = ZERO
    refunded_delivery: Decimal = ZERO
    quantities_left: list[int] = field(default_factory=list)

    @property
    def money_left(self) -> Decimal:
        return self.order["total"] - self.refunded_amount

    @property
    def merchandise_left(self) -> Decimal:
        return self.order["subtotal"] - self.refunded_subtotal

    @property
    def delivery_left(self) -> Decimal:
        return self.order["delivery_fee"] - self.refunded_delivery


def planned_refunds(tracked: Tracked):
    """Turn the drawn steps into refunds that fit what is left: (kind, amount, delivery, lines)."""
    order = tracked.order
    for kind, n, qty in order["steps"]:
        if kind == "line":
            index = n % len(order["lines"])
            quantity = min(qty, tracked.quantities_left[index])
            price = order["lines"][index][0]
            if quantity == 0 or price * quantity > tracked.merchandise_left:
                continue  # a pro-rata refund took that merchandise already
            amount = named_amount(order, tracked.refunded_subtotal, price * quantity, ZERO)
            if amount == 0:
                continue
            yield "line", amount, None, [(index, quantity)]
        elif kind == "delivery":
            delivery = min(tracked.delivery_left, tracked.money_left)
            delivery = max(CENT, half_up(delivery * n / 100)) if delivery > 0 else ZERO
            if delivery == 0:
                continue
            yield "delivery", delivery, delivery, []
        else:
            if tracked.money_left == 0:
                continue
            yield "pro_rata", max(CENT, half_up(tracked.money_left * n / 100)), None, []
    if order["refund_rest"] and tracked.money_left > 0:
        yield "pro_rata", tracked.money_left, None, []


def check_refund(tracked: Tracked, kind, amount, delivery, lines, share, before) -> None:
    """One refund as the oracle sees it; ``share`` is what the code recorded for it."""
    order = tracked.order
    assert share.amount == amount
    if kind == "line":
        index, quantity = lines[0]
        assert share.merchandise == order["lines"][index][0] * quantity
        assert share.delivery == 0
    elif kind == "delivery":
        assert (share.merchandise, share.delivery) == (ZERO, delivery)  # merchandise untouched
    else:
        assert ZERO <= share.merchandise <= before.merchandise_left
        assert ZERO <= share.delivery <= before.delivery_left
        # Its money is its merchandise less their points part, plus its delivery part.
        assert amount == named_amount(
            order, before.refunded_subtotal, share.merchandise, share.delivery
        )
        if amount == before.money_left:
            assert share.merchandise == before.merchandise_left


def check_left(tracked: Tracked, commission_left: Decimal, fee_left: Decimal) -> None:
    order = tracked.order
    assert commission_left == left_of(
        tracked.sale_commission, order["subtotal"], tracked.merchandise_left
    )
    assert fee_left == left_of(tracked.sale_fee, order["subtotal"], tracked.merchandise_left)
    assert ZERO <= commission_left <= tracked.sale_commission
    assert ZERO <= fee_left <= tracked.sale_fee
    assert ZERO <= tracked.refunded_amount <= order["total"]
    if tracked.money_left == 0 and tracked.merchandise_left == 0:
        assert (commission_left, fee_left) == (ZERO, ZERO)


def new_tracked(order) -> Tracked:
    return Tracked(
        order,
        sale_commission=half_up(order["subtotal"] * order["commission_rate"]),
        sale_fee=half_up(order["subtotal"] * order["fee_rate"]),
        quantities_left=[qty for _, qty in order["lines"]],
    )


def advance(tracked: Tracked, share, lines) -> None:
    tracked.refunded_amount += share.amount
    tracked.refunded_subtotal += share.merchandise
    tracked.refunded_delivery += share.delivery
    for index, quantity in lines:
        tracked.quantities_left[index] -= quantity


# --- the pure arithmetic ---------------------------------------------------------------------


def state_of(tracked: Tracked) -> refund_rule.RefundState:
    order = tracked.order
    return refund_rule.RefundState(
        order["subtotal"],
        order["delivery_fee"],
        order["points"],
        order["total"],
        tracked.refunded_amount,
        tracked.refunded_subtotal,
        tracked.refunded_delivery,
    )


def simulate(order) -> Tracked:
    """The order's refunds through the code's rule, checked by the oracle after each."""
    tracked = new_tracked(order)
    sale_commission = amount_at_rate(order["subtotal"], order["commission_rate"])
    sale_fee = amount_at_rate(order["subtotal"], order["fee_rate"])
    assert (sale_commission, sale_fee) == (tracked.sale_commission, tracked.sale_fee)
    rows = [(order["subtotal"], sale_commission, sale_fee)]
    for kind, amount, delivery, lines in planned_refunds(tracked):
        state = state_of(tracked)
        if kind == "pro_rata":
            share = refund_rule.pro_rata_share(state, amount)
        else:
            index_quantity = lines[0] if lines else None
            merchandise = (
                order["lines"][index_quantity[0]][0] * index_quantity[1] if lines else ZERO
            )
            share = refund_rule.named_share(state, merchandise, delivery or ZERO)
        before = Tracked(**{**tracked.__dict__, "quantities_left": list(tracked.quantities_left)})
        check_refund(tracked, kind, amount, delivery, lines, share, before)
        after = tracked.refunded_subtotal + share.merchandise
        commission = reversal_amount(
            sale_commission, order["subtotal"], before.refunded_subtotal, after
        )
        fee = reversal_amount(sale_fee, order["subtotal"], before.refunded_subtotal, after)
        assert commission >= 0 and fee >= 0  # a reversal is never a charge
        rows.append((-share.merchandise, -commission, -fee))
        advance(tracked, share, lines)
        check_left(tracked, sum(r[1] for r in rows), sum(r[2] for r in rows))
        assert sum(r[0] for r in rows) == tracked.merchandise_left
    return tracked


@settings(max_examples=600, deadline=None)
@given(st.lists(orders(), min_size=1, max_size=6))
def test_the_oracle_holds_for_random_orders_and_refunds_of_any_kind(generated):
    for order in generated:
        simulate(order)


@settings(max_examples=300, deadline=None)
@given(orders())
def test_a_full_refund_after_any_sequence_reverses_exactly(order):
    order["refund_rest"] = True
    tracked = simulate(order)
    assert tracked.money_left == 0
    if tracked.merchandise_left > 0:
        # Only merchandise the points discount paid can be left once all the money is back: a
        # refund naming its lines for 0.00, or the cancellation, reverses it.
        assert named_amount(order, tracked.refunded_subtotal, tracked.merchandise_left, ZERO) == 0
    assert tracked.refunded_delivery == order["delivery_fee"]


def test_merchandise_share_is_cumulative_and_exact_at_the_end():
    state = refund_rule.RefundState(Decimal("10.00"), Decimal("3.00"), ZERO, Decimal("13.00"))
    shares = []
    for _ in range(13):
        share = refund_rule.pro_rata_share(state, Decimal("1.00"))
        shares.append(share.merchandise)
        state = state.after(share)
    assert sum(shares) == Decimal("10.00") and set(shares) == {Decimal("0.76"), Decimal("0.77")}


def test_a_delivery_refund_takes_nothing_from_the_merchandise():
    # The example: 4.99 of delivery used to take 4.75 of the vendor's merchandise.
    state = refund_rule.RefundState(
        Decimal("32.99"), Decimal("4.99"), Decimal("1.00"), Decimal("36.98")
    )
    share = refund_rule.named_share(state, ZERO, Decimal("4.99"))
    assert (share.amount, share.merchandise, share.delivery) == (
        Decimal("4.99"),
        ZERO,
        Decimal("4.99"),
    )


# --- through the real intake service -----------------------------------------------------------


def delivery_refunded(order) -> Decimal:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(OrderRefund.delivery_amount), ZERO)).where(
            OrderRefund.order_id == order.id
        )
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=st.lists(orders(), min_size=1, max_size=3))
def test_the_oracle_holds_through_intake(db_session, generated):
    schedules = current_app.config["PLATFORM_FEE_SCHEDULES"]
    savepoint = db.session.begin_nested()
    try:
        shop = established_shop()
        make_customer(email="buyer@example.com")
        for n, order in enumerate(generated):
            shop_tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop.id))
            shop_tier.commission_rate = order["commission_rate"]
            db.session.flush()
            current_app.config["PLATFORM_FEE_SCHEDULES"] = {
                "shop": (("standard", None, order["fee_rate"]),)
            }
            event = placed(
                shop,
                items=[(str(price), qty) for price, qty in order["lines"]],
                delivery_fee=str(order["delivery_fee"]),
                points_discount=str(order["points"]),
            )
            intake_order = apply_order_event(event).order
            apply_order_event(follow_up(event.external_id, "order.paid"))
            tracked = new_tracked(order)
            for kind, amount, delivery, lines in planned_refunds(tracked):
                before_subtotal = intake_order.refunded_subtotal
                before_amount = intake_order.refunded_amount
                apply_order_event(
                    refunded(
                        event.external_id,
                        str(amount),
                        items=[(f"SKU-{index}", qty) for index, qty in lines],
                        delivery_amount=str(delivery) if delivery is not None else None,
                    )
                )
                merchandise = intake_order.refunded_subtotal - before_subtotal
                assert intake_order.refunded_amount - before_amount == amount
                if kind == "line":
                    index, quantity = lines[0]
                    assert merchandise == order["lines"][index][0] * quantity
                elif kind == "delivery":
                    assert merchandise == 0
                tracked.refunded_amount = intake_order.refunded_amount
                tracked.refunded_subtotal = intake_order.refunded_subtotal
                tracked.refunded_delivery = delivery_refunded(intake_order)
                for index, quantity in lines:
                    tracked.quantities_left[index] -= quantity
                result = money_sums(intake_order)
                check_left(tracked, result["commission"], result["fee"])
                assert result["order_amount"] == tracked.merchandise_left
            if n % 2 == 1 and intake_order.status != "refunded":
                apply_order_event(follow_up(event.external_id, "order.canceled"))
            result = money_sums(intake_order)
            assert result["order_amount"] == result["fee_order_amount"]
            assert result["order_amount"] == intake_order.subtotal - intake_order.refunded_subtotal
            tracked.refunded_subtotal = intake_order.refunded_subtotal
            tracked.refunded_amount = intake_order.refunded_amount
            check_left(tracked, result["commission"], result["fee"])
            if intake_order.status in ("canceled", "refunded"):
                assert all(value == ZERO for value in result.values())
    finally:
        current_app.config["PLATFORM_FEE_SCHEDULES"] = schedules
        savepoint.rollback()
