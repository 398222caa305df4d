"""An order's cancellation and its delivery (portal/deliveries/order_cancel.py): before pickup the
delivery is cancelled with the order's reason (offers withdrawn, driver freed, a DoorDash
delivery cancelled at the local DoorDash server); after pickup our driver brings it back, and a
provider's courier carrying it makes the cancel refused. The shop and the admin see the reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.deliveries import driving, states
from portal.deliveries.models import DeliveryAssignment, DeliveryOffer, DeliveryStatusChange, Driver
from portal.deliveries.providers.jobs import cancel_at_provider, send_to_provider
from portal.extensions import db
from portal.orders import services as orders
from portal.orders.models import Order
from portal.vendors.services import vendor_for_user
from tests.deliveries.dispatch_helpers import empty_queue
from tests.deliveries.doordash import doordash_delivery
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import tracked
from tests.factories import make_admin, make_vendor
from tests.orders.helpers import paid_order

HX = {"HX-Request": "true"}
REASON = "Order canceled: Customer asked to cancel: changed their mind"
PROVIDER_CANCEL_JOB = "portal.deliveries.providers.jobs.cancel_at_provider"


@pytest.fixture
def owner(db_session):
    return make_vendor(shop_name="Corner Shop")


def reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def cancel(client, order):
    return client.post(
        f"/vendor/orders/{order.id}/cancel?view=detail",
        data={"reason": "customer_request", "note": "changed their mind"},
        headers=HX,
    )


def pending_offer(delivery, driver) -> DeliveryOffer:
    row = DeliveryOffer(
        assignment_id=delivery.id,
        driver_id=driver.id,
        offered_at=utcnow(),
        expires_at=utcnow() + timedelta(seconds=60),
        outcome="pending",
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_a_shop_cancel_before_pickup_cancels_the_delivery_and_withdraws_its_offer(
    client, auth, owner
):
    order = paid_order(vendor_for_user(owner))
    delivery = tracked("created", order=order)
    driver = verified_driver()
    offer = pending_offer(delivery, driver)
    db.session.commit()
    auth.login(owner.email)

    response = cancel(client, order)
    assert response.status_code == 200, response.get_data(as_text=True)
    delivery = reload(DeliveryAssignment, delivery.id)
    assert delivery.status == "cancelled" and delivery.status_reason == REASON
    assert reload(DeliveryOffer, offer.id).outcome == "withdrawn"
    change = db.session.scalars(
        sa.select(DeliveryStatusChange).where(
            DeliveryStatusChange.assignment_id == delivery.id,
            DeliveryStatusChange.to_status == "cancelled",
        )
    ).one()
    assert change.source == "vendor" and change.actor_id == owner.id
    detail = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "Cancelled" in detail and f"Reason: {REASON}" in detail
    listed = client.get("/vendor/deliveries/").get_data(as_text=True)
    assert REASON in listed


def test_a_cancel_frees_the_driver_who_accepted_it(owner):
    order = paid_order(vendor_for_user(owner))
    driver = verified_driver()
    delivery = tracked("enroute_to_pickup", order=order, driver=driver)
    assert driver.status == "on_delivery"
    orders.cancel_order(order, reason="Shop closed", by="vendor", actor=owner)
    assert reload(DeliveryAssignment, delivery.id).status == "cancelled"
    assert reload(Driver, driver.id).status == "available"


def test_a_cancel_after_our_driver_picked_it_up_sends_it_back_to_the_shop(
    client, auth, owner, db_session
):
    order = paid_order(vendor_for_user(owner))
    driver = verified_driver()
    delivery = tracked("enroute_to_dropoff", order=order, driver=driver)
    db.session.commit()
    auth.login(owner.email)

    assert cancel(client, order).status_code == 200
    assert reload(Order, order.id).status == "canceled"
    delivery = reload(DeliveryAssignment, delivery.id)
    assert delivery.status == "enroute_to_return" and delivery.status_reason == REASON
    assert reload(Driver, driver.id).status == "on_delivery"  # the order is still in their car
    detail = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "Returning to the shop" in detail and f"Reason: {REASON}" in detail

    # The driver's phone says why, and the big button leads back to the shop.
    work = driving.delivery_view(delivery)
    assert work.next_status == "arrived_at_return"
    for step in ("arrived_at_return", "returned"):
        driving.advance_delivery(driver, delivery.id, step)
    db.session.commit()
    delivery = reload(DeliveryAssignment, delivery.id)
    assert delivery.status == "returned" and delivery.status_reason == REASON  # kept to the end
    assert reload(Driver, driver.id).status == "available"

    auth.logout()
    auth.login(make_admin().email)
    board = client.get("/admin/deliveries/").get_data(as_text=True)
    assert f'id="ended-{delivery.id}"' in board and REASON in board
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert f"Reason: {REASON}" in page


def test_the_driver_sees_why_the_order_goes_back(client, auth, owner):
    order = paid_order(vendor_for_user(owner))
    driver = verified_driver()
    tracked("picked_up", order=order, driver=driver, driver_pay=Decimal("6.00"))
    orders.cancel_order(order, reason="Suspected fraud", by="vendor", actor=owner)
    db.session.commit()
    auth.login(driver.user.email)
    page = client.get("/driver/").get_data(as_text=True)
    assert 'id="return-reason"' in page and "Order canceled: Suspected fraud" in page


def test_a_doordash_delivery_is_cancelled_at_doordash(client, auth, app, app_doordash):
    queue = empty_queue(app)
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    order = reload(Order, delivery.order_id)
    owner = order.vendor.members[0].user
    auth.login(owner.email)

    assert cancel(client, order).status_code == 200
    delivery = reload(DeliveryAssignment, delivery.id)
    assert delivery.status == "cancelled" and delivery.status_reason == REASON
    jobs = [(job.func_name, job.args) for job in queue.jobs]
    assert (PROVIDER_CANCEL_JOB, (str(delivery.id),)) in jobs
    assert cancel_at_provider(str(delivery.id)) == "cancelled"  # what the worker runs
    [kept] = app_doordash.deliveries()
    assert kept["external_delivery_id"] == str(delivery.id)
    assert kept["delivery_status"] == "cancelled"
    assert kept["cancellation_reason"] == "cancelled_by_creator"


def test_a_doordash_courier_carrying_the_order_makes_the_cancel_refused(client, auth, app_doordash):
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    states.apply_reported(reload(DeliveryAssignment, delivery.id), "picked_up")
    db.session.commit()
    order = reload(Order, delivery.order_id)
    auth.login(order.vendor.members[0].user.email)

    response = cancel(client, order)
    assert response.status_code == 409
    assert "The courier has picked this order up" in response.get_data(as_text=True)
    assert reload(Order, order.id).status == "paid"
    assert reload(DeliveryAssignment, delivery.id).status == "picked_up"
    assert not any("cancel" in r["path"] for r in app_doordash.received())


def test_the_storefronts_cancel_cancels_the_delivery_too(owner):
    order = paid_order(vendor_for_user(owner))
    delivery = tracked("confirmed", order=order)
    orders.cancel_order(order, utcnow())  # order intake's call: no reason, no person
    delivery = reload(DeliveryAssignment, delivery.id)
    assert delivery.status == "cancelled"
    assert delivery.status_reason == "Order canceled: no reason given"
    assert delivery.history[-1].source == "system"


def test_a_finished_delivery_is_left_alone(owner):
    order = paid_order(vendor_for_user(owner))
    delivery = tracked("created", order=order)
    states.advance(delivery, "cancelled", source="admin", note="Weather")
    orders.cancel_order(order, reason="Shop closed")
    assert reload(DeliveryAssignment, delivery.id).status_reason == "Weather"
