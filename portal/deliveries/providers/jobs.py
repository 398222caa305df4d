"""The provider's jobs: book a delivery with it, cancel one there (docs/deliveries.md).

``send_to_provider(assignment_id)`` is enqueued after the commit by ``services.hand_to_provider``,
the one way to the provider: when the shop chooses it, or the dispatch finds no driver. It quotes
the delivery, accepts the quote while it is still valid (else creates the delivery outright), and
keeps the provider's id, the tracking link and its fee. The delivery's external id at the provider
is the assignment's id, so a retry (RQ's, or after an answer lost on the way back) finds the
booking made before and never books a second one. No row lock is held across a call to the provider.

``cancel_at_provider(assignment_id)`` is enqueued by an admin's cancel: a delivery its driver has
picked up cannot be cancelled there any more, and the refusal is kept for the admin to see.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app

from ...clock import utcnow
from ...extensions import db
from ...queues import enqueue
from .. import states
from ..models import DeliveryAssignment
from . import (
    CannotCancel,
    DeliveryNotFound,
    DuplicateDelivery,
    ProviderDeliveryState,
    ProviderRefused,
    QuoteExpired,
    provider,
)
from .services import NotSendable, delivery_request, provider_row, record_booking

log = logging.getLogger(__name__)

SEND_JOB = "portal.deliveries.providers.jobs.send_to_provider"
CANCEL_JOB = "portal.deliveries.providers.jobs.cancel_at_provider"


def _locked(assignment_id: str) -> DeliveryAssignment | None:
    try:
        key = uuid.UUID(str(assignment_id))
    except ValueError:
        return None
    return db.session.get(DeliveryAssignment, key, with_for_update=True, populate_existing=True)


def send_to_provider(assignment_id: str) -> str | None:
    """Book the delivery with the external provider; its id there, or None when there is nothing
    to book (gone, finished, or taken by one of our drivers meanwhile)."""
    assignment = _locked(assignment_id)
    if assignment is None:
        return None
    if assignment.provider_reference_id:
        db.session.rollback()
        return assignment.provider_reference_id  # booked already: a retry changes nothing
    if assignment.status != "created" or assignment.driver_id is not None:
        log.info("delivery %s is %s: not sent to a provider", assignment_id, assignment.status)
        db.session.rollback()
        return None
    name = (
        assignment.provider
        if assignment.provider != "internal"
        else current_app.config["EXTERNAL_DELIVERY_PROVIDER"]
    )
    gateway = provider(name)
    assignment.provider = name  # from now on no driver of ours is offered it
    row = provider_row(assignment, name)
    try:
        request = delivery_request(assignment)
    except NotSendable as error:
        row.last_error = str(error)
        db.session.commit()
        raise
    db.session.commit()

    try:
        state, booked_by = _book(gateway, request, row)
    except ProviderRefused as error:
        db.session.rollback()
        row = provider_row(_locked(assignment_id), name)
        row.last_error = error.message
        db.session.commit()
        raise
    assignment = _locked(assignment_id)
    row = provider_row(assignment, name)
    record_booking(assignment, row, state, booked_by=booked_by)
    cancelled_meanwhile = assignment.status == "cancelled"
    db.session.commit()
    if cancelled_meanwhile:  # an admin cancelled while it was being booked
        enqueue(CANCEL_JOB, str(assignment.id), job_id=f"provider-cancel-{assignment.id}")
    return state.external_id


def _book(gateway, request, row) -> tuple[ProviderDeliveryState, str]:
    """Quote, then accept within the quote's validity, else create: (the booking, how)."""
    try:
        return gateway.get(request.external_id), "found"
    except DeliveryNotFound:
        pass
    try:
        quote = gateway.quote(request)
    except DuplicateDelivery:  # booked by an attempt running beside this one
        return gateway.get(request.external_id), "found"
    row.quoted_fee, row.quoted_at, row.quote_expires_at = (
        quote.fee,
        quote.quoted_at,
        quote.expires_at,
    )
    row.provider_status = "quote"
    db.session.commit()
    margin = timedelta(seconds=current_app.config["DOORDASH_QUOTE_MARGIN_SECONDS"])
    try:
        if utcnow() >= quote.expires_at - margin:
            raise QuoteExpired("the quote ran out before it could be accepted")
        return gateway.accept_quote(request.external_id, tip=request.tip), "accepted_quote"
    except QuoteExpired:
        try:
            return gateway.create(request), "created"
        except DuplicateDelivery:
            return gateway.get(request.external_id), "found"
    except DuplicateDelivery:
        return gateway.get(request.external_id), "found"


def cancel_at_provider(assignment_id: str) -> str | None:
    """Cancel the delivery at its provider; the provider's status after, or None when it was
    never booked there (the booking job cancels what it books for a cancelled delivery)."""
    assignment = _locked(assignment_id)
    if assignment is None or assignment.provider == "internal":
        db.session.rollback()
        return None
    reference = assignment.provider_reference_id
    row = provider_row(assignment, assignment.provider)
    if reference is None:
        db.session.commit()
        return None
    row.cancel_requested_at = row.cancel_requested_at or utcnow()
    gateway = provider(assignment.provider)
    db.session.commit()
    try:
        state = gateway.cancel(reference)
    except CannotCancel as error:
        row = provider_row(_locked(assignment_id), assignment.provider)
        row.cancel_refusal = error.message
        db.session.commit()
        return None
    except DeliveryNotFound:
        db.session.rollback()
        return None
    assignment = _locked(assignment_id)
    row = provider_row(assignment, assignment.provider)
    row.provider_status = state.provider_status
    row.cancel_refusal = None
    if state.status == "cancelled":
        states.apply_reported(
            assignment, "cancelled", source="admin", note="Cancelled at DoorDash by an admin"
        )
    db.session.commit()
    return state.provider_status
