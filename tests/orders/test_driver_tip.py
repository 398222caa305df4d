"""The customer's tip for the driver in ``order.placed`` (``data.order.driver_tip``): kept beside
the order (outside its total), carried onto the delivery at "ready for pickup", paid with the
driver's earnings; a bad tip is a 400 with the reason, nothing stored."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.orders.intake import apply_order_event
from portal.orders.models import Order
from portal.orders.tips import OrderDriverTip, tip_of
from tests.deliveries.dispatch_helpers import ready_order
from tests.orders.helpers import established_shop, placed
from tests.orders.test_webhook_http import counts, event, order_body, post, shop  # noqa: F401


def test_a_tip_over_http_is_kept_outside_the_total(shop, post, committed):  # noqa: F811
    body = event("order.placed", order_body(shop, driver_tip="3.50"))
    assert post(body) == (200, {"status": "processed"})
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == "medusa-1001"))
    assert order.total == Decimal("36.98")  # subtotal + delivery fee - points: no tip in it
    assert tip_of(order) == Decimal("3.50")


@pytest.mark.parametrize(
    ("tip", "reason"),
    [
        ("-1.00", "data.order.driver_tip"),
        ("1.005", "data.order.driver_tip"),
        (2.5, "data.order.driver_tip"),
        ("10000.00", "data.order.driver_tip"),
        ("abc", "data.order.driver_tip"),
    ],
)
def test_a_bad_tip_is_refused_with_the_reason_and_nothing_is_stored(
    shop,  # noqa: F811
    post,  # noqa: F811
    committed,
    tip,
    reason,
):
    before = counts()
    status, answer = post(event("order.placed", order_body(shop, driver_tip=tip)))
    assert status == 400 and reason in answer["error"]
    assert counts() == before


def test_the_tip_is_carried_onto_the_delivery_when_the_order_is_ready(db_session):
    order, delivery = ready_order(driver_tip=Decimal("4.25"))
    assert delivery.driver_tip == Decimal("4.25")
    assert order.total == order.subtotal + order.delivery_fee - order.points_discount


def test_no_tip_is_zero_and_writes_no_row(db_session):
    order, delivery = ready_order()
    assert delivery.driver_tip == Decimal("0.00") and tip_of(order) == Decimal("0.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderDriverTip)) == 0


def test_intake_refuses_a_negative_tip_given_past_the_parser(db_session):
    from portal.orders.services import InvalidOrder

    shop_ = established_shop()
    incoming = placed(shop_)
    bad = dataclasses.replace(
        incoming, order=dataclasses.replace(incoming.order, driver_tip=Decimal("-2.00"))
    )
    with pytest.raises(InvalidOrder, match="driver tip"):
        apply_order_event(bad)
