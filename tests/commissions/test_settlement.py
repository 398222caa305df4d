"""Settlement: pending commissions of final orders become settled, once, by the daily job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import scheduling
from portal.commissions.jobs import settle_commissions_job
from portal.commissions.services import settle_due_commissions
from portal.orders import completion
from portal.orders.intake import apply_order_event
from tests.factories import make_admin
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


# --- every commission settles -------------------------------------------------------------------


def test_a_fully_refunded_order_settles_at_once_at_zero(shop):
    order = paid_order(shop, items=[("20.00", 1)])
    apply_order_event(refunded(order.external_id, str(order.total)))
    assert settle_due_commissions(now()) == 2
    assert statuses(order) == ["settled", "settled"]
    assert sum(row.commission_amount for row in commission_rows(order)) == 0


def test_a_paid_order_never_completed_settles_after_auto_completion_and_the_window(app, shop):
    # Counts as completed 14 days after payment; settles 7 days after that.
    days = app.config["ORDER_AUTO_COMPLETE_DAYS"] + app.config["RETURN_WINDOW_DAYS"]
    due = paid_order(shop, at=now() - timedelta(days=days, minutes=1), items=[("30.00", 1)])
    not_yet = paid_order(shop, at=now() - timedelta(days=days - 1), items=[("30.00", 1)])
    assert completion.completed_at_of(due) == due.paid_at + timedelta(days=14)
    assert settle_due_commissions(now()) == 1
    assert statuses(due) == ["settled"] and statuses(not_yet) == ["pending"]


def test_the_auto_completion_delay_is_configurable(app, shop, monkeypatch):
    order = paid_order(shop, at=now() - timedelta(days=10), items=[("30.00", 1)])
    assert settle_due_commissions(now()) == 0
    monkeypatch.setitem(app.config, "ORDER_AUTO_COMPLETE_DAYS", 2)
    assert completion.completed_at_of(order) == order.paid_at + timedelta(days=2)
    assert settle_due_commissions(now()) == 1


def test_a_held_order_does_not_complete_by_itself_until_released(shop):
    admin = make_admin()
    order = paid_order(shop, at=now() - timedelta(days=40), items=[("30.00", 1)])
    hold = completion.hold_order(order, "customer dispute", held_by=admin)
    assert (hold.reason, hold.held_by_id, hold.released_at) == ("customer dispute", admin.id, None)
    assert completion.completed_at_of(order) is None
    assert settle_due_commissions(now()) == 0
    with pytest.raises(completion.HoldError, match="on hold already"):
        completion.hold_order(order, "again", held_by=admin)

    released = completion.release_hold(order, released_by=admin)
    assert released.released_by_id == admin.id and released.released_at is not None
    assert settle_due_commissions(now()) == 1


def test_only_admins_hold_and_only_waiting_orders(shop):
    order = paid_order(shop, items=[("30.00", 1)])
    with pytest.raises(completion.HoldError, match="Only an admin"):
        completion.hold_order(order, "why", held_by=None)
    apply_order_event(follow_up(order.external_id, "order.completed"))
    with pytest.raises(completion.HoldError, match="nothing to hold"):
        completion.hold_order(order, "late", held_by=make_admin())
