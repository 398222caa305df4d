"""Every admin money action: without a proved second factor it does nothing; with one it does
its work and writes exactly one audit row naming the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import clock
from portal.admin.models import AuditEvent
from portal.extensions import db
from portal.orders import completion
from portal.orders.models import OrderHold, OrderRefund
from portal.payouts.admin_holds import admin_hold_of, place_hold
from portal.tiers.models import MonthClose, ShopTier
from portal.vendors.models import Vendor
from tests.admin.test_admin_orders import refund_form
from tests.factories import PASSWORD, make_admin
from tests.orders.helpers import established_shop, now, paid_order
from tests.second_factor import enroll, prove

# The admin views that move money, and so carry the gate. A new one is added here and gated.
GATED = {
    "admin.grant_promotion",
    "admin.change_vendor_type",
    "admin.month_close_page",
    "admin.order_refund",
    "admin.hold_order",
    "admin.release_order_hold",
    "admin.start_payout_run",
    "admin.retry_payout",
    "admin.pause_payouts",
    "admin.lift_payout_pause",
    "admin_points.adjust_points_post",
    "second_factor.regenerate_recovery_codes",  # a fresher proof, not a money action
}


def test_the_money_actions_are_the_gated_views(app):
    gated = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "second_factor_setting", None)
    }
    assert gated == GATED


@dataclass
class Action:
    action: str
    subject_type: str
    path: str
    data: dict
    done: object  # () -> bool: the action's effect is there
    subject_id: str


def _promotion(client):
    vendor = established_shop()
    expires = (clock.today() + timedelta(days=10)).isoformat()

    def done():
        tier = db.session.scalar(sa.select(ShopTier.tier).where(ShopTier.shop_id == vendor.id))
        return tier == "gold"

    data = {"tier": "gold", "reason": "launch", "expires_on": expires}
    path = f"/admin/vendors/{vendor.id}/promotion"
    return Action("promotion.granted", "vendor", path, data, done, str(vendor.id))


def _vendor_type(client):
    vendor = established_shop()

    def done():
        return db.session.get(Vendor, vendor.id).vendor_type == "grocery"

    path = f"/admin/vendors/{vendor.id}/vendor-type"
    return Action(
        "vendor.type_changed", "vendor", path, {"vendor_type": "grocery"}, done, str(vendor.id)
    )


def _month_close(client):
    month = clock.this_month().previous()

    def done():
        return db.session.scalar(
            sa.select(MonthClose).where(
                MonthClose.year == month.year, MonthClose.month == month.month
            )
        )

    return Action(
        "month_close.started", "month_close", "/admin/month-close", {"month": str(month)}, done, ""
    )


def _refund(client):
    order = paid_order(established_shop())
    db.session.commit()
    data = refund_form(order, client, kind="order")

    def done():
        return db.session.scalar(sa.select(OrderRefund).where(OrderRefund.order_id == order.id))

    path = f"/admin/orders/{order.id}/refund"
    return Action("order.refunded", "order", path, data, done, str(order.id))


def _hold(client):
    order = paid_order(established_shop(), at=now() - timedelta(days=30))
    db.session.commit()

    def done():
        return db.session.scalar(sa.select(OrderHold).where(OrderHold.order_id == order.id))

    path = f"/admin/orders/{order.id}/hold"
    return Action("order.held", "order", path, {"reason": "chargeback"}, done, str(order.id))


def _release(client):
    order = paid_order(established_shop(), at=now() - timedelta(days=30))
    completion.hold_order(order, "checking", held_by=make_admin())
    db.session.commit()

    def done():
        return completion.open_hold(order) is None

    path = f"/admin/orders/{order.id}/release"
    return Action("order.hold_released", "order", path, {}, done, str(order.id))


def _pause(client):
    vendor = established_shop()

    def done():
        return admin_hold_of(vendor.id) is not None

    path = f"/admin/vendors/{vendor.id}/payouts/pause"
    return Action(
        "payout_hold.placed", "vendor", path, {"note": "Fraud review"}, done, str(vendor.id)
    )


def _lift(client):
    vendor = established_shop()
    place_hold(vendor, note="Fraud review", actor=make_admin())
    db.session.commit()

    def done():
        return admin_hold_of(vendor.id) is None

    path = f"/admin/vendors/{vendor.id}/payouts/lift"
    return Action("payout_hold.lifted", "vendor", path, {}, done, str(vendor.id))


def _points(client):
    from portal.customers.services import customer_for_user
    from portal.loyalty import points
    from tests.factories import make_customer

    customer = customer_for_user(make_customer())
    db.session.commit()

    def done():
        balance = points.balance_row(customer.id)
        return balance is not None and balance.current_balance == 250

    path = f"/admin/customers/{customer.id}/points/adjust"
    data = {"points": "250", "reason": "Late delivery"}
    return Action("points.adjusted", "customer", path, data, done, str(customer.id))


SETUPS = {
    "promotion": _promotion,
    "vendor type": _vendor_type,
    "month close": _month_close,
    "refund": _refund,
    "hold": _hold,
    "release": _release,
    "pause payouts": _pause,
    "lift the pause": _lift,
    "adjust points": _points,
}


def _audit_rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.created_at)).all()


def _forget_close_job():
    from rq.job import Job

    from portal.queues import get_redis

    for close in db.session.scalars(sa.select(MonthClose)):
        if close.job_id:
            Job.fetch(close.job_id, connection=get_redis()).delete()


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("name", SETUPS)
def test_a_money_action_needs_the_factor_and_writes_one_audit_row(client, db_session, name, htmx):
    admin = make_admin(email="acting@example.com")
    secret = enroll(admin)
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    action = SETUPS[name](client)
    headers = {"HX-Request": "true"} if htmx else {}
    before = len(_audit_rows())

    refused = client.post(action.path, data=action.data, headers=headers)
    assert refused.status_code in (200, 303)
    assert (refused.headers.get("HX-Redirect") if htmx else refused.headers["Location"]).startswith(
        "/admin/second-factor/verify?next=/admin/"
    )
    assert not action.done() and len(_audit_rows()) == before  # nothing was done

    prove(client, secret)
    done = client.post(action.path, data=action.data, headers=headers)
    assert done.status_code in (200, 302, 303), done.get_data(as_text=True)[:500]
    assert action.done()
    rows = _audit_rows()[before:]
    assert [(r.action, r.subject_type, r.actor_id) for r in rows] == [
        (action.action, action.subject_type, admin.id)
    ]
    if action.subject_id:
        assert rows[0].subject_id == action.subject_id
    if name == "month close":
        _forget_close_job()


def test_a_refund_sent_twice_is_audited_once(client, db_session, verified_admin):
    action = _refund(client)
    before = len(_audit_rows())
    client.post(action.path, data=action.data)
    client.post(action.path, data=action.data)  # the same form (its token) again
    assert len(_audit_rows()) == before + 1
