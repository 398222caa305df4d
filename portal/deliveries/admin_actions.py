"""What an admin may do to a delivery from the live board: give it to another driver, or cancel it.

One refusal function answers "may this be done now, and if not why" for the button and the
service alike; the status rules themselves stay in the status machine (``states.REOPENABLE``,
``states.refusal``), which also refuses, with the same words, a move that became illegal between
the page and the click.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..queues import enqueue_after_commit
from . import states
from .models import DeliveryAssignment, DeliveryOffer, Driver

ACTIONS = ("reassign", "cancel")
DISPATCH_JOB = "portal.deliveries.dispatch.dispatch_delivery"
PROVIDER_CANCEL_JOB = "portal.deliveries.providers.jobs.cancel_at_provider"


class DeliveryNotFound(LookupError):
    pass


class ReasonRefused(ValueError):
    """The cancellation's reason is missing or too long (shown beside its field)."""


def refusal(assignment: DeliveryAssignment, action: str) -> str | None:
    """Why an admin cannot ``action`` ("reassign", "cancel") this delivery now, or None."""
    if action == "reassign":
        if assignment.provider != "internal":
            return (
                "This delivery is with an outside provider: our drivers cannot take it over. "
                "Cancel it instead, which cancels it with the provider too."
            )
        if assignment.status not in states.REOPENABLE:
            return (
                f"A delivery that is “{states.LABELS[assignment.status]}” cannot be given to "
                "another driver: only one a driver accepted and has not picked up yet."
            )
        return None
    if action == "cancel":
        return states.refusal(assignment, "cancelled")
    raise ValueError(f"Unknown delivery action {action!r}.")


def locked_delivery(assignment_id: uuid.UUID) -> DeliveryAssignment:
    """The delivery, its row locked (a driver's step or a webhook may move it at the same time)."""
    assignment = db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.id == assignment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if assignment is None:
        raise DeliveryNotFound("There is no such delivery.")
    return assignment


def _withdraw_pending_offers(assignment: DeliveryAssignment, at) -> int:
    result = db.session.execute(
        sa.update(DeliveryOffer)
        .where(DeliveryOffer.assignment_id == assignment.id, DeliveryOffer.outcome == "pending")
        .values(outcome="withdrawn", answered_at=at),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def _free_driver(assignment: DeliveryAssignment) -> Driver | None:
    """The delivery's driver back to ``available`` if this delivery was what kept them busy."""
    if assignment.driver_id is None:
        return None
    driver = db.session.scalar(
        sa.select(Driver).where(Driver.id == assignment.driver_id).with_for_update()
    )
    if driver is not None and driver.status == "on_delivery":
        driver.status = "available"
    return driver


def reassign_delivery(assignment_id: uuid.UUID, *, actor) -> DeliveryAssignment:
    """Take the delivery back from its driver before pickup and offer it again: the status goes
    back to ``created``, pending offers are withdrawn, the driver is free again, and the dispatch
    job runs after the commit. :class:`states.IllegalTransition` with the reason otherwise."""
    assignment = locked_delivery(assignment_id)
    problem = refusal(assignment, "reassign")
    if problem:
        raise states.IllegalTransition(problem)
    at = utcnow()
    states.reopen(assignment, source="admin", actor=actor, at=at, note="Reassigned by an admin")
    _withdraw_pending_offers(assignment, at)
    _free_driver(assignment)
    assignment.driver_id = None
    db.session.flush()
    enqueue_after_commit(DISPATCH_JOB, str(assignment.id))
    return assignment


def clean_reason(reason: str | None) -> str:
    """The cancellation's reason, required and bounded (``DELIVERY_CANCEL_REASON_MAX``)."""
    text = " ".join((reason or "").split())
    longest = current_app.config["DELIVERY_CANCEL_REASON_MAX"]
    if not text:
        raise ReasonRefused("Say why the delivery is cancelled: the shop sees it.")
    if len(text) > longest:
        raise ReasonRefused(f"Write the reason in at most {longest} characters.")
    return text


def cancel_delivery(assignment_id: uuid.UUID, *, actor, reason: str | None) -> DeliveryAssignment:
    """Cancel the delivery with the admin's reason (kept as its ``status_reason``): pending
    offers are withdrawn, the driver is free again, and a provider's delivery is cancelled with
    the provider after the commit."""
    text = clean_reason(reason)
    assignment = locked_delivery(assignment_id)
    problem = refusal(assignment, "cancel")
    if problem:
        raise states.IllegalTransition(problem)
    return end_delivery(assignment, source="admin", actor=actor, note=text)


def end_delivery(
    assignment: DeliveryAssignment, *, source: str, actor=None, note: str, at=None
) -> DeliveryAssignment:
    """Cancel a delivery whose row the caller locked (the admin's cancel, an order's
    cancellation): ``cancelled`` with ``note`` as the reason, pending offers withdrawn, the
    driver free again, and a provider's delivery cancelled at the provider after the commit."""
    at = at or utcnow()
    states.advance(assignment, "cancelled", source=source, actor=actor, at=at, note=note)
    _withdraw_pending_offers(assignment, at)
    _free_driver(assignment)
    db.session.flush()
    if assignment.provider != "internal":
        enqueue_after_commit(PROVIDER_CANCEL_JOB, str(assignment.id))
    return assignment
