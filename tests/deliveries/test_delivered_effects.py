"""What follows a delivery's end, whoever ended it: delivered closes the assignment, counts the
driver's delivery and earnings (pay plus tip), frees the driver and moves the order to delivered
through the orders service, where the return window starts (a storefront's later order.completed
is still taken); cancelled or returned frees the driver."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from portal.clock import utcnow
from portal.commissions.services import settle_due_commissions
from portal.deliveries import dispatch, driving, states
from portal.deliveries.admin_actions import cancel_delivery
from portal.extensions import db
from portal.orders import completion
from portal.orders import services as orders
from portal.orders.intake import apply_order_event
from tests.deliveries.dispatch_helpers import north, ready_order
from tests.deliveries.helpers import verified_driver
from tests.factories import make_admin
from tests.orders.helpers import commission_rows, follow_up

PATH_TO_THE_DOOR = (
    "enroute_to_pickup",
    "arrived_at_pickup",
    "picked_up",
    "enroute_to_dropoff",
    "arrived_at_dropoff",
)


@pytest.fixture
def carried(db_session):
    """A delivery accepted by its driver: (driver, delivery, order)."""
    driver = verified_driver(north(0.2))
    order, delivery = ready_order()
    offer = dispatch.dispatch(delivery.id).offer
    driving.accept_offer(driver, offer.id)
    return driver, delivery, order


def to_the_door(driver, delivery):
    for step in PATH_TO_THE_DOOR:
        driving.advance_delivery(driver, delivery.id, step)


def test_delivered_closes_counts_and_moves_the_order(carried):
    driver, delivery, order = carried
    delivery.driver_tip = Decimal("2.50")
    to_the_door(driver, delivery)
    assert delivery.pickup_completed_at is not None
    at = utcnow()
    driving.prove_delivery(driver, delivery.id, "pin", pin=delivery.delivery_pin, at=at)

    db.session.expire_all()
    assert delivery.status == "delivered" and delivery.delivery_completed_at == at
    assert (driver.total_deliveries, driver.total_earnings) == (1, Decimal("6.50"))
    assert driver.status == "available"
    assert (order.status, order.delivered_at) == ("delivered", at)
    assert completion.completed_at_of(order) == at  # the return window starts at delivery
    # The storefront's own completion afterwards is still taken.
    apply_order_event(follow_up(order.external_id, "order.completed", at=at + timedelta(hours=2)))
    db.session.expire_all()
    assert order.status == "completed" and completion.completed_at_of(order) == at


def test_the_commission_settles_a_return_window_after_delivery(app, db_session):
    driver = verified_driver(north(0.2))
    days = app.config["RETURN_WINDOW_DAYS"]
    order, delivery = ready_order(at=utcnow() - timedelta(days=days + 2))
    driving.accept_offer(driver, dispatch.dispatch(delivery.id).offer.id)
    to_the_door(driver, delivery)
    delivered_at = utcnow() - timedelta(days=days + 1)
    driving.prove_delivery(driver, delivery.id, "pin", pin=delivery.delivery_pin, at=delivered_at)
    assert settle_due_commissions(utcnow()) >= 1
    assert {row.status for row in commission_rows(order)} == {"settled"}


def test_a_delivery_within_the_window_stays_pending(carried):
    driver, delivery, order = carried
    to_the_door(driver, delivery)
    driving.prove_delivery(driver, delivery.id, "pin", pin=delivery.delivery_pin)
    settle_due_commissions(utcnow())
    assert {row.status for row in commission_rows(order)} == {"pending"}


def test_an_admins_cancel_frees_the_driver(carried):
    driver, delivery, _order = carried
    driving.advance_delivery(driver, delivery.id, "enroute_to_pickup")
    cancel_delivery(delivery.id, actor=make_admin(), reason="Shop closed early")
    db.session.expire_all()
    assert (delivery.status, driver.status) == ("cancelled", "available")
    assert driver.total_deliveries == 0


def test_the_way_back_ends_with_the_driver_free_and_the_order_not_delivered(carried):
    driver, delivery, order = carried
    to_the_door(driver, delivery)
    driving.advance_delivery(driver, delivery.id, "enroute_to_return")
    driving.advance_delivery(driver, delivery.id, "arrived_at_return")
    driving.advance_delivery(driver, delivery.id, "returned")
    db.session.expire_all()
    assert (delivery.status, driver.status, order.status) == ("returned", "available", "paid")
    assert delivery.status_reason == "Nobody took the order at the door"
    assert order.delivered_at is None


def test_a_provider_delivery_moves_the_order_too(db_session):
    order, delivery = ready_order()
    delivery.provider = "doordash"
    for status in ("confirmed", "picked_up", "delivered"):
        states.apply_reported(delivery, status)
    db.session.expire_all()
    assert order.status == "delivered" and order.delivered_at is not None


def test_an_order_canceled_at_the_door_goes_back_and_is_not_delivered(carried):
    # The order's cancel turns the delivery back (portal/deliveries/order_cancel.py): no proof.
    driver, delivery, order = carried
    to_the_door(driver, delivery)
    orders.cancel_order(order, reason="the customer called")
    assert delivery.status == "enroute_to_return"
    with pytest.raises(driving.ProofRefused):
        driving.prove_delivery(driver, delivery.id, "pin", pin=delivery.delivery_pin)
    db.session.expire_all()
    assert order.status == "canceled" and order.delivered_at is None


def test_the_orders_delivery_is_one_step_and_refused_where_it_does_not_fit(db_session):
    order, _delivery = ready_order()
    at = utcnow()
    orders.mark_delivered(order, at)
    orders.mark_delivered(order, at + timedelta(hours=1))  # the first time stands
    assert order.delivered_at == at
    canceled, _ = ready_order()
    orders.cancel_order(canceled)
    with pytest.raises(orders.OrderStateConflict, match="canceled order is not delivered"):
        orders.mark_delivered(canceled)
