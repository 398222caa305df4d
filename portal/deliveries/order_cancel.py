"""What an order's cancellation does to its delivery (``orders.services.cancel_order`` calls it,
whoever cancels: the shop, the storefront's ``order.canceled``).

- Not picked up yet (``created`` … ``arrived_at_pickup``): the delivery is cancelled with the
  order's reason, the offers out for it are withdrawn and its driver is free again; a provider's
  delivery is cancelled at the provider after the commit (``admin_actions.end_delivery``, the
  admin's cancel).
- Picked up by our own driver: the status machine allows no cancel that would leave the order in
  the driver's hands, so the delivery turns back to the shop (``enroute_to_return``, with the
  reason): the driver's phone shows the way back and the shop and admin see why.
- Picked up by a provider's courier: refused. DoorDash does not cancel after pickup and the
  portal cannot start a return there; the order is delivered (then refunded) or the provider
  returns it.
- Finished (delivered, cancelled, returned) or no delivery: nothing to do.
"""

from __future__ import annotations

from . import states
from .admin_actions import end_delivery
from .assignments import order_assignment
from .models import DeliveryAssignment

#: The delivery's reason, as the driver, the shop and the admin read it.
REASON = "Order canceled: {reason}"


class DeliveryInHand(ValueError):
    """The order is with a provider's courier: it cannot be canceled now (the text says why)."""


def refusal(assignment: DeliveryAssignment | None) -> str | None:
    """Why the order of this delivery cannot be canceled now, or None."""
    if assignment is None or assignment.status not in states.CARRYING:
        return None
    if assignment.provider == "internal":
        return None
    return (
        "The courier has picked this order up, and the delivery service cannot cancel it now. "
        "Wait until it is delivered (then refund the customer) or returned."
    )


def cancel_order_delivery(
    order, *, reason: str | None, source: str, actor=None, at=None
) -> DeliveryAssignment | None:
    """Cancel (or turn back) the order's delivery as the module says; ``DeliveryInHand`` when a
    provider's courier carries it. The caller holds the order's row lock."""
    assignment = order_assignment(order, lock=True)
    problem = refusal(assignment)
    if problem:
        raise DeliveryInHand(problem)
    if assignment is None or assignment.status in states.FINISHED:
        return assignment
    note = REASON.format(reason=reason or "no reason given")
    if assignment.status in states.CARRYING:
        states.advance(
            assignment, "enroute_to_return", source=source, actor=actor, at=at, note=note
        )
        return assignment
    if assignment.status in states.RETURNING:
        return assignment  # on its way back already
    return end_delivery(assignment, source=source, actor=actor, note=note, at=at)
