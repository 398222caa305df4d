"""Settlement: pending commissions of final orders become settled, once, by the daily job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import scheduling
from portal.commissions.jobs import settle_commissions_job
from portal.commissions.services import settle_due_commissions
from portal.orders.intake import apply_order_event
from tests.orders.helpers import (
    commission_rows,
    established_shop,
    follow_up,
    now,
    paid_order,
    placed,
    refunded,
)


@pytest.fixture
def shop(db_session):
    return established_shop()


def completed_order(shop, days_ago: int, *, refund: str | None = None):
    at = now() - timedelta(days=days_ago + 1)
    order = paid_order(shop, at=at, items=[("50.00", 1)])
    if refund:
        apply_order_event(refunded(order.external_id, refund, at=at))
    apply_order_event(
        follow_up(order.external_id, "order.completed", at=now() - timedelta(days=days_ago))
    )
    return order


def statuses(order) -> list[str]:
    return [row.status for row in commission_rows(order)]


def test_orders_past_the_return_window_settle_with_their_reversals(shop):
    due = completed_order(shop, days_ago=8, refund="10.00")
    in_window = completed_order(shop, days_ago=3)
    open_order = paid_order(shop, items=[("20.00", 1)])
    moment = now()

    assert settle_due_commissions(moment) == 2
    assert statuses(due) == ["settled", "settled"]
    assert {row.settled_at for row in commission_rows(due)} == {moment}
    assert statuses(in_window) == ["pending"]
    assert statuses(open_order) == ["pending"]


def test_the_window_is_configurable_and_counted_from_completion(app, shop, monkeypatch):
    order = completed_order(shop, days_ago=3)
    monkeypatch.setitem(app.config, "RETURN_WINDOW_DAYS", 2)
    assert settle_due_commissions(now()) == 1
    assert statuses(order) == ["settled"]


def test_settling_again_changes_nothing(shop):
    order = completed_order(shop, days_ago=10)
    first = now()
    assert settle_due_commissions(first) == 1
    assert settle_due_commissions(first + timedelta(days=1)) == 0
    assert commission_rows(order)[0].settled_at == first


def test_a_late_refund_is_settled_by_the_next_run_and_the_sale_is_untouched(shop):
    order = completed_order(shop, days_ago=10)
    settle_due_commissions(now())
    apply_order_event(refunded(order.external_id, "5.00"))
    assert statuses(order) == ["settled", "pending"]
    assert settle_due_commissions(now()) == 1
    assert statuses(order) == ["settled", "settled"]


def test_a_canceled_paid_order_settles_at_zero(shop):
    order = paid_order(shop, items=[("20.00", 1)])
    apply_order_event(follow_up(order.external_id, "order.canceled"))
    assert settle_due_commissions(now()) == 2
    assert statuses(order) == ["settled", "settled"]
    assert sum(row.commission_amount for row in commission_rows(order)) == 0


def test_paid_rows_are_left_alone(shop):
    order = completed_order(shop, days_ago=10)
    sale = commission_rows(order)[0]
    sale.status = "paid"
    assert settle_due_commissions(now()) == 0
    assert statuses(order) == ["paid"]


def test_the_job_settles_and_commits(shop):
    completed_order(shop, days_ago=8)
    assert settle_commissions_job() == 1
    assert settle_commissions_job() == 0


def test_the_job_is_scheduled_daily(app):
    with app.app_context():
        jobs = {job.name: job for job in scheduling.periodic_jobs(app)}
    job = jobs["settle-commissions"]
    assert job.every == "daily"
    assert job.func_path == "portal.commissions.jobs.settle_commissions_job"


def test_pending_unpaid_orders_have_nothing_to_settle(shop):
    apply_order_event(placed(shop))
    assert settle_due_commissions(now()) == 0
