"""The shop's "Ready, DoorDash delivers" makes the order's delivery, handed to the provider."""

import sqlalchemy as sa

from portal.deliveries.models import DeliveryAssignment, DeliveryStatusChange
from portal.extensions import db
from portal.orders import handling
from tests.orders.helpers import established_shop, paid_order


def delivery_of(order):
    return db.session.scalar(
        sa.select(DeliveryAssignment).where(DeliveryAssignment.order_id == order.id)
    )


def test_ready_with_doordash_makes_a_delivery_for_the_provider(db_session):
    order = paid_order(established_shop())
    handling.accept_order(order)
    handling.mark_ready(order, provider="doordash")
    delivery = delivery_of(order)
    assert (delivery.provider, delivery.status, delivery.vendor_id) == (
        "doordash",
        "created",
        order.vendor_id,
    )
    assert delivery.customer_delivery_fee == order.delivery_fee
    assert len(delivery.tracking_token) >= 40
    sources = db.session.scalars(
        sa.select(DeliveryStatusChange.source).where(
            DeliveryStatusChange.assignment_id == delivery.id
        )
    ).all()
    assert sources == ["vendor"]


def test_ready_without_a_provider_makes_a_delivery_for_our_drivers(db_session):
    order = paid_order(established_shop())
    handling.accept_order(order)
    handling.mark_ready(order)
    delivery = delivery_of(order)
    assert (delivery.provider, delivery.status) == ("internal", "created")
    assert delivery.customer_delivery_fee == order.delivery_fee
