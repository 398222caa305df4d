"""Shops on the map, ready orders with a dropoff point, and the jobs they queue, for the dispatch
and driver tests. Positions are (latitude, longitude) around Portland; 0.01 degree of latitude is
0.69 miles."""

from __future__ import annotations

import sqlalchemy as sa

from portal import queues
from portal.deliveries.assignments import order_assignment
from portal.deliveries.models import DeliveryOffer
from portal.extensions import db
from portal.geo import point
from portal.orders import handling
from tests.deliveries.helpers import CITY
from tests.orders.helpers import established_shop, paid_order

DOOR = (45.5231, -122.6765)
MAIL_JOB = "portal.mail.deliver"


def north(miles: float, of: tuple[float, float] = CITY) -> tuple[float, float]:
    """A point ``miles`` north of ``of``."""
    return (of[0] + miles / 69.0934, of[1])


def shop_at(at: tuple[float, float] = CITY, **fields):
    vendor = established_shop(**fields)
    vendor.location = point(*at)
    vendor.pickup_address = {"line1": "1005 W Burnside St", "city": "Portland", "state": "OR"}
    db.session.flush()
    return vendor


def ready_order(vendor=None, *, dropoff: tuple[float, float] | None = DOOR, **placed):
    """A paid, accepted order marked ready for our drivers; returns (order, its delivery)."""
    vendor = vendor or shop_at()
    order = paid_order(vendor, **placed)
    address = {"line1": "2 Home Ave", "city": "Portland", "phone": "+1 503 555 0123"}
    if dropoff is not None:
        address |= {"latitude": dropoff[0], "longitude": dropoff[1]}
    order.dropoff_address = address
    db.session.flush()
    handling.accept_order(order)
    handling.mark_ready(order)
    return order, order_assignment(order)


def pending_offers(assignment=None, driver=None) -> list[DeliveryOffer]:
    query = sa.select(DeliveryOffer).where(DeliveryOffer.outcome == "pending")
    if assignment is not None:
        query = query.where(DeliveryOffer.assignment_id == assignment.id)
    if driver is not None:
        query = query.where(DeliveryOffer.driver_id == driver.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def queued(queue) -> list[tuple[str, tuple]]:
    """The jobs queued (but mails)."""
    return [(job.func_name, job.args) for job in queue.jobs if job.func_name != MAIL_JOB]


def empty_queue(app):
    queue = queues.get_queue("default", app)
    queue.empty()
    return queue
