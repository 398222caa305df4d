"""The points service: earning, settling, holds, redemption, refunds, adjustments and tiers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from portal.admin.models import AuditEvent
from portal.extensions import db
from portal.loyalty import points
from portal.loyalty.models import PointsClawbackShortfall, PointsPendingEarn
from portal.orders import services as orders
from portal.orders.services import InvalidOrder, RefundItem
from tests.loyalty.helpers import (
    D,
    admin,
    assert_ledger_consistent,
    balance,
    customer,
    give,
    moment,
    pay,
    place,
    rows,
    shop,
)


@pytest.fixture
def vendor(db_session):
    return shop()


@pytest.fixture
def buyer(db_session):
    return customer()


def pending_of(order):
    return db.session.scalar(
        sa.select(PointsPendingEarn).where(PointsPendingEarn.order_id == order.id)
    )


def window_closed(order):
    """When the order's return window closes by the commissions' rule (auto-completion)."""
    days = current_app.config["ORDER_AUTO_COMPLETE_DAYS"] + current_app.config["RETURN_WINDOW_DAYS"]
    return order.paid_at + timedelta(days=days)


# --- earning and settling ------------------------------------------------------------------------


def test_payment_makes_points_pending_not_spendable(vendor, buyer):
    order = pay(place(vendor, buyer, price="50.99", quantity=2))
    pending = pending_of(order)
    assert pending.points == 101  # $101.98 of merchandise, whole dollars, bronze 1x
    assert pending.available_at == window_closed(order)
    assert rows(buyer) == []
    summary = points.summary(buyer.id, moment(1))
    assert (summary.balance, summary.pending) == (0, 101)


def test_points_discount_is_not_earned_on(vendor, buyer):
    give(buyer, 1000)
    order = pay(place(vendor, buyer, price="30.00", discount="10.00", with_points=True))
    assert pending_of(order).points == 20


def test_settle_turns_pending_into_earned_once_the_window_closes(vendor, buyer):
    order = pay(place(vendor, buyer, price="40.00"))
    closes = window_closed(order)
    assert points.settle_due(closes - timedelta(seconds=1)) == 0
    assert points.settle_due(closes) == 1
    assert pending_of(order) is None
    [earned] = rows(buyer, "earned")
    assert (earned.amount, earned.order_id) == (40, order.id)
    assert earned.expires_at == points.add_months(closes, 12)
    assert points.settle_due(closes + timedelta(days=1)) == 0  # replay: nothing new
    assert balance(buyer).lifetime_earned == 40
    assert_ledger_consistent(buyer)


def test_delivery_starts_the_window_as_for_commissions(vendor, buyer):
    order = pay(place(vendor, buyer, price="40.00"))
    delivered = order.paid_at + timedelta(days=1)
    orders.mark_delivered(order, delivered)
    closes = delivered + timedelta(days=current_app.config["RETURN_WINDOW_DAYS"])
    assert points.settle_due(closes - timedelta(seconds=1)) == 0
    assert pending_of(order).available_at == closes  # refreshed for the customer's page
    assert points.settle_due(closes) == 1


def test_tier_at_payment_sets_the_multiplier_and_follows_lifetime(vendor, buyer):
    first = pay(place(vendor, buyer, price="1000.00"))
    points.settle_due(window_closed(first))
    standing = balance(buyer)
    assert (standing.tier, standing.tier_progress, standing.next_tier_threshold) == (
        "silver",
        0,
        5000,
    )
    second = pay(place(vendor, buyer, price="100.00", at=window_closed(first)))
    assert pending_of(second).points == 125  # silver 1.25x


# --- holds, redemption, release ------------------------------------------------------------------


def test_order_with_points_holds_then_redeems_at_payment(vendor, buyer):
    give(buyer, 1500)
    order = place(vendor, buyer, price="30.00", discount="12.00", with_points=True)
    assert points.summary(buyer.id, moment(1)).held == 1200
    assert balance(buyer).current_balance == 1500  # held is not spent yet
    pay(order)
    [redeemed] = rows(buyer, "redeemed")
    assert (redeemed.amount, redeemed.balance_before, redeemed.balance_after) == (-1200, 1500, 300)
    assert balance(buyer).lifetime_redeemed == 1200
    assert points.held_points(buyer.id) == 0
    assert_ledger_consistent(buyer)


def test_a_hold_cannot_take_more_than_is_free(vendor, buyer):
    give(buyer, 1000)
    place(vendor, buyer, price="30.00", discount="6.00", with_points=True)
    with pytest.raises(InvalidOrder, match="400 are free"):
        place(vendor, buyer, price="30.00", discount="5.00", with_points=True)


def test_canceling_an_unpaid_order_releases_its_hold(vendor, buyer):
    give(buyer, 1000)
    order = place(vendor, buyer, price="30.00", discount="6.00", with_points=True)
    orders.cancel_order(order, moment(0.01))
    assert points.held_points(buyer.id) == 0
    assert rows(buyer, "redeemed") == []


def test_hold_timeout_releases_order_and_external_holds(vendor, buyer):
    give(buyer, 1000)
    place(vendor, buyer, price="30.00", discount="3.00", with_points=True, at=moment())
    points.hold_external(buyer.id, 200, at=moment())
    later = moment() + points.hold_duration()
    assert points.release_expired_holds(later - timedelta(seconds=1)) == 0
    assert points.release_expired_holds(later) == 2
    assert points.release_expired_holds(later) == 0
    assert points.held_points(buyer.id) == 0


def test_discount_without_hold_is_the_marketplaces(vendor, buyer):
    order = pay(place(vendor, buyer, price="30.00", discount="5.00"))
    assert rows(buyer) == []
    assert pending_of(order).points == 25


# --- refunds -------------------------------------------------------------------------------------


def test_refund_before_settling_shrinks_the_pending_earn(vendor, buyer):
    order = pay(place(vendor, buyer, price="25.00", quantity=4))
    orders.refund_order(
        order,
        D("25.00"),
        "re-1",
        at=order.paid_at + timedelta(hours=1),
        items=[RefundItem(quantity=1, sku="T-1")],
    )
    assert pending_of(order).points == 75
    orders.refund_order(order, D("75.00"), "re-2", at=order.paid_at + timedelta(hours=2))
    assert pending_of(order) is None
    assert rows(buyer) == []


def test_refund_after_settling_claws_back_and_tier_follows(vendor, buyer):
    order = pay(place(vendor, buyer, price="250.00", quantity=4))
    closes = window_closed(order)
    points.settle_due(closes)
    assert balance(buyer).tier == "silver"
    orders.refund_order(
        order,
        D("250.00"),
        "re-1",
        at=closes + timedelta(hours=1),
        items=[RefundItem(quantity=1, sku="T-1")],
    )
    [claw] = rows(buyer, "clawed_back")
    assert (claw.amount, claw.balance_before, claw.balance_after) == (-250, 1000, 750)
    standing = balance(buyer)
    assert (standing.lifetime_earned, standing.tier) == (750, "bronze")
    assert_ledger_consistent(buyer)


def test_clawback_beyond_the_balance_records_a_shortfall(vendor, buyer):
    order = pay(place(vendor, buyer, price="100.00"))
    closes = window_closed(order)
    points.settle_due(closes)
    spend = place(vendor, buyer, price="10.00", discount="0.80", with_points=True, at=closes)
    pay(spend)
    orders.refund_order(order, D("100.00"), "re-1", at=closes + timedelta(hours=1))
    claw = rows(buyer, "clawed_back")[0]
    assert (claw.amount, claw.balance_after) == (-20, 0)
    [short] = db.session.scalars(sa.select(PointsClawbackShortfall)).all()
    assert short.points == 80
    assert balance(buyer).lifetime_earned == 0
    assert_ledger_consistent(buyer)


def test_refund_returns_redeemed_points_in_proportion(vendor, buyer):
    give(buyer, 2000)
    order = pay(place(vendor, buyer, price="10.00", quantity=4, discount="20.00", with_points=True))
    at = order.paid_at + timedelta(hours=1)
    orders.refund_order(order, D("5.00"), "re-1", at=at, items=[RefundItem(quantity=1, sku="T-1")])
    [back] = rows(buyer, "returned")
    assert back.amount == 500  # a quarter of the merchandise: a quarter of the 2000 points
    orders.cancel_order(order, at + timedelta(hours=1))
    assert sum(row.amount for row in rows(buyer, "returned")) == 2000
    assert balance(buyer).lifetime_redeemed == 0
    assert_ledger_consistent(buyer)


# --- admin adjustment ----------------------------------------------------------------------------


def test_adjust_needs_an_admin_a_reason_and_keeps_above_zero(buyer):
    boss = admin()
    with pytest.raises(points.PointsError, match="Say why"):
        points.adjust(buyer.id, 10, "  ", actor=boss)
    with pytest.raises(points.PointsError, match="Only an admin"):
        points.adjust(buyer.id, 10, "nice", actor=buyer.user)
    row = points.adjust(buyer.id, 300, "Late delivery", actor=boss, at=moment())
    assert (row.type, row.amount, row.balance_after) == ("adjusted", 300, 300)
    with pytest.raises(points.NotEnoughPoints, match="below zero"):
        points.adjust(buyer.id, -301, "oops", actor=boss)
    points.adjust(buyer.id, -300, "Taken back", actor=boss, at=moment(1))
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "points.adjusted"))
    assert [event.detail["points"] for event in audit] == [300, -300]
    assert balance(buyer).lifetime_earned == 0  # goodwill does not buy a tier
    assert_ledger_consistent(buyer)


# --- expiry --------------------------------------------------------------------------------------


def test_expiry_is_fifo_against_debits_and_idempotent(buyer):
    boss = admin()
    points.adjust(buyer.id, 100, "first", actor=boss, at=moment(0))
    points.adjust(buyer.id, 100, "second", actor=boss, at=moment(40))
    points.adjust(buyer.id, -150, "spent", actor=boss, at=moment(50))
    first_expiry = points.add_months(moment(0), 12)
    soon = points.expiring_soon(buyer.id, first_expiry - timedelta(days=10))
    assert soon == []  # the first 100 were all spent: nothing of them is left to expire
    second_expiry = points.add_months(moment(40), 12)
    soon = points.expiring_soon(buyer.id, second_expiry - timedelta(days=10))
    assert [(item.on, item.points) for item in soon] == [(second_expiry.date(), 50)]
    assert points.expire_due(first_expiry) == 0
    assert points.expire_due(second_expiry) == 1
    [expired] = rows(buyer, "expired")
    assert (expired.amount, expired.balance_after) == (-50, 0)
    assert points.expire_due(second_expiry + timedelta(days=1)) == 0
    assert_ledger_consistent(buyer)


def test_liability_by_month_matches_balances(buyer):
    boss = admin()
    other = customer()
    points.adjust(buyer.id, 250, "a", actor=boss, at=moment(0))
    points.adjust(other.id, 150, "b", actor=boss, at=moment(40))
    owed = points.liability(moment(41))
    assert (owed.points, owed.value) == (400, D("4.00"))
    assert [(m.month.month, m.points) for m in owed.by_month] == [
        (points.add_months(moment(0), 12).month, 250),
        (points.add_months(moment(40), 12).month, 150),
    ]


def test_history_pages_newest_first(buyer):
    boss = admin()
    for day in range(5):
        points.adjust(buyer.id, 10 + day, f"credit {day}", actor=boss, at=moment(day))
    first = points.history(buyer.id, limit=3)
    assert [row.amount for row in first] == [14, 13, 12]
    more = points.history(buyer.id, before=first[-1].created_at, limit=3)
    assert [row.amount for row in more] == [11, 10]


def test_history_pages_through_rows_of_one_instant(vendor, buyer):
    # A night's settlement writes several rows at the same moment: none may fall between pages.
    paid = [pay(place(vendor, buyer, price=f"{10 + n}.00")) for n in range(5)]
    points.settle_due(window_closed(paid[-1]))
    seen, cursor = [], None
    while True:
        page = points.history(buyer.id, before=cursor, limit=2)
        if not page:
            break
        seen += [row.id for row in page]
        cursor = page[-1]
    assert len(seen) == len(set(seen)) == 5
