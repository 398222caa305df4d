"""What follows when a delivery reaches a status, registered with ``states.on_entering`` so the
status machine stays about the rule. Each runs in the transaction of the step, whoever made it (the
driver, a provider's webhook, an admin).

- ``picked_up``: the assignment's ``pickup_completed_at``.
- ``delivered``: the assignment is closed (``delivery_completed_at``); its driver's
  ``total_deliveries`` and ``total_earnings`` (pay plus tip) grow, its ``driver_earnings`` row is
  written (paid out once settled: ``payouts/driver_earnings.py``) and the driver is free again;
  the order moves to ``delivered`` through the orders service (``orders.services
  .mark_delivered``), so its money and points follow the completion rule: the return window
  starts at delivery.
- ``cancelled``, ``returned``: the driver is free again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..payouts.driver_earnings import record_earning
from . import states
from .models import DeliveryAssignment, Driver

log = logging.getLogger(__name__)


def _locked_driver(assignment: DeliveryAssignment) -> Driver | None:
    if assignment.driver_id is None:
        return None
    return db.session.scalar(
        sa.select(Driver)
        .where(Driver.id == assignment.driver_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def free_driver(driver: Driver | None) -> None:
    """A driver whose delivery ended is available for the next one (offline if no longer
    verified: a suspension meanwhile)."""
    if driver is None or driver.status != "on_delivery":
        return
    verified = driver.insurance_verified and driver.background_check_status == "clear"
    driver.status = "available" if verified else "offline"


@states.on_entering("picked_up")
def _picked_up(assignment: DeliveryAssignment, at: datetime) -> None:
    assignment.pickup_completed_at = assignment.pickup_completed_at or at


@states.on_entering("delivered")
def _delivered(assignment: DeliveryAssignment, at: datetime) -> None:
    from ..orders import services as orders
    from ..orders.models import Order

    assignment.delivery_completed_at = assignment.delivery_completed_at or at
    driver = _locked_driver(assignment)
    if driver is not None:
        earned = (assignment.driver_pay or Decimal("0")) + (assignment.driver_tip or Decimal("0"))
        driver.total_deliveries = (driver.total_deliveries or 0) + 1
        driver.total_earnings = (driver.total_earnings or Decimal("0")) + earned
        free_driver(driver)
        # Paid out once settled (docs/payouts.md "Drivers are paid"); unique per delivery.
        record_earning(assignment, assignment.delivery_completed_at)
    order = db.session.get(Order, assignment.order_id)
    if order is None:
        return
    try:
        orders.mark_delivered(order, at)
    except orders.OrderError as refused:
        # The delivery happened; an order that cannot take it (canceled meanwhile) keeps its state.
        log.warning("order %s not moved to delivered: %s", order.id, refused)


@states.on_entering("cancelled")
@states.on_entering("returned")
def _ended(assignment: DeliveryAssignment, at: datetime) -> None:
    free_driver(_locked_driver(assignment))
