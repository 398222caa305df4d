"""The delivery status machine: which step may follow which, and the one place a status changes.

The names are DoorDash Drive's (PRODUCT.md, "Deliveries"), with ``arrived_at_return`` added to
the return path. A driver or a person moves a delivery one legal step at a time; a provider's
webhook may skip steps it never reported (DoorDash can go from confirmed to picked up), but never
moves a delivery backwards or out of a finished state: a late, repeated or out-of-order event is
ignored. Every change is one row of ``delivery_status_history``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache

from ..clock import utcnow
from ..extensions import db
from .models import DeliveryAssignment, DeliveryStatusChange

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "created": ("confirmed", "cancelled"),
    "confirmed": ("enroute_to_pickup", "cancelled"),
    "enroute_to_pickup": ("arrived_at_pickup", "cancelled"),
    "arrived_at_pickup": ("picked_up", "cancelled"),
    "picked_up": ("enroute_to_dropoff", "enroute_to_return", "cancelled"),
    "enroute_to_dropoff": ("arrived_at_dropoff", "enroute_to_return", "cancelled"),
    "arrived_at_dropoff": ("delivered", "enroute_to_return", "cancelled"),
    "enroute_to_return": ("arrived_at_return",),
    "arrived_at_return": ("returned",),
    "delivered": (),
    "cancelled": (),
    "returned": (),
}

FINISHED = tuple(status for status, nexts in TRANSITIONS.items() if not nexts)
# Before pickup an admin may take a delivery back from its driver and offer it again.
REOPENABLE = ("confirmed", "enroute_to_pickup", "arrived_at_pickup")
# The order is in the courier's hands: it can only be delivered or brought back.
CARRYING = ("picked_up", "enroute_to_dropoff", "arrived_at_dropoff")
# On the way back to the shop, and back there.
RETURNING = ("enroute_to_return", "arrived_at_return", "returned")

LABELS = {
    "created": "Looking for a driver",
    "confirmed": "Driver assigned",
    "enroute_to_pickup": "On the way to the shop",
    "arrived_at_pickup": "At the shop",
    "picked_up": "Picked up",
    "enroute_to_dropoff": "On the way to you",
    "arrived_at_dropoff": "Arrived",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "enroute_to_return": "Returning to the shop",
    "arrived_at_return": "Back at the shop",
    "returned": "Returned to the shop",
}

# What the driver's one big button says for the next step of the main path.
NEXT_STEP_LABELS = {
    "confirmed": "Start to the shop",
    "enroute_to_pickup": "Arrived at the shop",
    "arrived_at_pickup": "Picked up",
    "picked_up": "Start to the customer",
    "enroute_to_dropoff": "Arrived at the customer",
    "arrived_at_dropoff": "Delivered",
    "enroute_to_return": "Arrived back at the shop",
    "arrived_at_return": "Returned",
}


class IllegalTransition(ValueError):
    """A status change the machine does not allow; its text is shown to the person who asked."""


# Effects of reaching a status (closing the assignment, moving the order, ...), registered by the
# modules that own them so this one stays about the rule: {status: [effect(assignment, at)]}.
_EFFECTS: dict[str, list[Callable[[DeliveryAssignment, datetime], None]]] = {}


def on_entering(status: str):
    """Register ``effect(assignment, at)`` to run, in the same transaction, when a delivery
    reaches ``status``."""
    if status not in TRANSITIONS:
        raise ValueError(f"Unknown delivery status {status!r}.")

    def register(effect):
        _EFFECTS.setdefault(status, []).append(effect)
        return effect

    return register


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS[status]


def next_step(status: str) -> str | None:
    """The step the driver's button takes: the first of the legal ones that is not a detour."""
    for candidate in TRANSITIONS[status]:
        if candidate not in ("cancelled", "enroute_to_return"):
            return candidate
    return None


@cache
def reachable(status: str) -> frozenset[str]:
    """Every status a delivery in ``status`` can still reach, in one or more legal steps."""
    seen: set[str] = set()
    frontier = list(TRANSITIONS[status])
    while frontier:
        candidate = frontier.pop()
        if candidate not in seen:
            seen.add(candidate)
            frontier.extend(TRANSITIONS[candidate])
    return frozenset(seen)


def refusal(assignment: DeliveryAssignment, to_status: str) -> str | None:
    """Why ``to_status`` cannot follow the delivery's status now, or None."""
    if to_status not in TRANSITIONS:
        return f"“{to_status}” is not a delivery status."
    current = assignment.status
    if to_status in TRANSITIONS[current]:
        return None
    if current in FINISHED:
        return f"This delivery is already {LABELS[current].lower()}."
    return f"A delivery that is “{LABELS[current]}” cannot become “{LABELS[to_status]}”."


def advance(
    assignment: DeliveryAssignment,
    to_status: str,
    *,
    source: str,
    actor=None,
    at: datetime | None = None,
    note: str | None = None,
) -> DeliveryStatusChange:
    """Move the delivery one legal step; :class:`IllegalTransition` otherwise. The caller holds
    the assignment's row lock (``SELECT … FOR UPDATE``) when others may move it too."""
    problem = refusal(assignment, to_status)
    if problem:
        raise IllegalTransition(problem)
    return _move(assignment, to_status, source=source, actor=actor, at=at, note=note)


def apply_reported(
    assignment: DeliveryAssignment,
    to_status: str,
    *,
    source: str = "provider",
    at: datetime | None = None,
    note: str | None = None,
) -> DeliveryStatusChange | None:
    """A status a provider reports: taken when it lies ahead of the delivery (skipped steps
    allowed), ignored (None) when it is the same, behind, or off a path already left."""
    if to_status not in TRANSITIONS:
        raise IllegalTransition(f"“{to_status}” is not a delivery status.")
    if to_status not in reachable(assignment.status):
        return None
    return _move(assignment, to_status, source=source, actor=None, at=at, note=note)


def reopen(
    assignment: DeliveryAssignment, *, source: str, actor=None, at=None, note=None
) -> DeliveryStatusChange:
    """Take a delivery back from its driver before pickup, to offer it again (admin reassign)."""
    if assignment.status not in REOPENABLE:
        raise IllegalTransition(
            f"A delivery that is “{LABELS[assignment.status]}” cannot be given to another driver."
        )
    return _move(assignment, "created", source=source, actor=actor, at=at, note=note)


def _move(assignment, to_status, *, source, actor, at, note) -> DeliveryStatusChange:
    at = at or utcnow()
    change = DeliveryStatusChange(
        assignment_id=assignment.id,
        from_status=assignment.status,
        to_status=to_status,
        at=at,
        source=source,
        actor_id=getattr(actor, "id", None),
        note=note,
    )
    assignment.status = to_status
    assignment.updated_at = at
    # Why a delivery ended or turned back; the reason given when it turned back (an order
    # canceled after pickup, nobody at the door) stays through to ``returned``.
    keeps_first = to_status == "returned" and assignment.status_reason
    if note and to_status in ("cancelled", "enroute_to_return", "returned") and not keeps_first:
        assignment.status_reason = note
    db.session.add(change)
    for effect in _EFFECTS.get(to_status, ()):
        effect(assignment, at)
    db.session.flush()
    return change


def record_creation(assignment: DeliveryAssignment, *, source: str, actor=None, at=None) -> None:
    """The history's first row: the delivery was created (from_status NULL)."""
    db.session.add(
        DeliveryStatusChange(
            assignment_id=assignment.id,
            from_status=None,
            to_status=assignment.status,
            at=at or utcnow(),
            source=source,
            actor_id=getattr(actor, "id", None),
        )
    )
