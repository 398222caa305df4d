"""The rules of handing a delivery to an external provider: what is sent (``delivery_request``,
product details through ``obfuscation.outside_line_name``), what is kept of a booking, and how a
status webhook changes a delivery (``apply_report``: once per event, forward only).

Like every service: explicit arguments, domain errors, ``flush()`` and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import insert

from ...clock import utcnow
from ...extensions import db
from ...geo import point
from ...obfuscation.services import outside_line_name
from ...periods import Period
from .. import states, tracking
from ..models import DeliveryAssignment
from . import PROOF_OPTIONS, DeliveryRequest, Item, ProviderDeliveryState, StatusReport, Stop
from .doordash import InvalidPhone, e164
from .models import ProviderDelivery, ProviderEvent

#: The parts of an address, in the order a one-line address names them.
ADDRESS_PARTS = ("line1", "line2", "street", "city", "state", "postal_code", "zip", "country")


class NotSendable(ValueError):
    """The delivery lacks what the provider needs (an address, a phone number)."""


def one_line(address: dict | None) -> str:
    """``1005 W Burnside St, Portland, OR, 97209, US``: the comma-separated address DoorDash
    takes (a person's name is not part of it)."""
    parts = [str(address[key]).strip() for key in ADDRESS_PARTS if (address or {}).get(key)]
    return ", ".join(part for part in parts if part)


def _phone(*candidates: str | None) -> str:
    """The first candidate that E.164 can write, else the marketplace's support line."""
    country = current_app.config["PHONE_DEFAULT_COUNTRY_CODE"]
    for candidate in (*candidates, current_app.config["DELIVERY_SUPPORT_PHONE"]):
        try:
            return e164(candidate, country)
        except InvalidPhone:
            continue
    raise NotSendable("no phone number E.164 can write, not even DELIVERY_SUPPORT_PHONE")


def position(assignment: DeliveryAssignment, column) -> tuple[float, float] | None:
    """A point of the assignment as (latitude, longitude), read back through PostGIS."""
    geometry = sa.cast(column, Geometry)
    row = db.session.execute(
        sa.select(sa.func.ST_Y(geometry), sa.func.ST_X(geometry)).where(
            DeliveryAssignment.id == assignment.id
        )
    ).one_or_none()
    if row is None or row[0] is None:
        return None
    return (row[0], row[1])


def delivery_request(assignment: DeliveryAssignment) -> DeliveryRequest:
    """What the provider is sent for the delivery: both stops, the order's value, its lines as
    an outside party may see them, the proof of delivery asked for."""
    config = current_app.config
    order = assignment.order
    vendor = order.vendor
    customer = order.customer
    pickup_address = one_line(assignment.pickup_address or vendor.pickup_address)
    dropoff_address = one_line(assignment.dropoff_address or order.dropoff_address)
    if not pickup_address or not dropoff_address:
        raise NotSendable("the delivery has no pickup or no dropoff address")
    given, _, family = ((customer.full_name if customer else "") or "").strip().partition(" ")
    dropoff = order.dropoff_address or {}
    proof = config["DOORDASH_PROOF_OF_DELIVERY"]
    if proof not in PROOF_OPTIONS:
        raise NotSendable(f"DOORDASH_PROOF_OF_DELIVERY is one of {', '.join(PROOF_OPTIONS)}")
    return DeliveryRequest(
        external_id=str(assignment.id),
        pickup=Stop(
            address=pickup_address,
            phone=_phone(vendor.contact_phone),
            business_name=vendor.name,
            instructions=f"Ask for order {order.label}.",
        ),
        dropoff=Stop(
            address=dropoff_address,
            phone=_phone(customer.phone if customer else None, dropoff.get("phone")),
            contact_given_name=given or None,
            contact_family_name=family.strip() or None,
            location=position(assignment, DeliveryAssignment.dropoff_location),
        ),
        order_value=order.subtotal,
        items=tuple(
            Item(
                name=view.name,
                description=view.description,
                quantity=item.quantity,
                price=item.unit_price,
                external_id=str(item.id),
            )
            for item in order.items
            for view in (outside_line_name(item, "deliveries"),)
        ),
        reference_tag=f"Order {order.label}",
        proof=proof,
        requires_signature=config["DOORDASH_REQUIRE_SIGNATURE"],
        tip=config["DOORDASH_TIP"],
    )


def provider_row(assignment: DeliveryAssignment, provider: str) -> ProviderDelivery:
    row = db.session.get(ProviderDelivery, assignment.id)
    if row is None:
        row = ProviderDelivery(assignment_id=assignment.id, provider=provider, tip=Decimal("0"))
        db.session.add(row)
        db.session.flush()
    return row


def record_booking(
    assignment: DeliveryAssignment,
    row: ProviderDelivery,
    state: ProviderDeliveryState,
    *,
    booked_by: str,
    at: datetime | None = None,
) -> None:
    """The provider booked the delivery: its id there, the tracking link, what it charges."""
    at = at or utcnow()
    assignment.provider_reference_id = state.external_id
    assignment.tracking_url = state.tracking_url or assignment.tracking_url
    row.fee = state.fee
    row.tip = state.tip
    row.provider_status = state.provider_status
    row.support_reference = state.support_reference
    row.booked_at = row.booked_at or at
    row.booked_by = row.booked_by or booked_by
    row.last_error = None
    _driver(row, state.driver_name, state.driver_location, at)
    if state.status and state.status != "created":
        states.apply_reported(assignment, state.status, at=at, note="DoorDash's booking said so")
    db.session.flush()


def _driver(row, name, location, at) -> None:
    if name:
        row.driver_name = name
    if location is not None and (row.driver_location_at is None or at >= row.driver_location_at):
        row.driver_location = point(*location)
        row.driver_location_at = at


# --- webhooks -------------------------------------------------------------------------------


def apply_report(report: StatusReport, provider: str) -> str:
    """One status webhook: ``duplicate`` (seen before: nothing changes), ``unknown_delivery``,
    ``applied`` (the delivery moved on) or ``ignored`` (late, repeated, out of order, or no
    status: the position and tracking link are still kept when newer)."""
    now = utcnow()
    event_id = db.session.execute(
        insert(ProviderEvent)
        .values(
            provider=provider,
            event_key=report.event_key,
            event_name=report.event_name,
            external_delivery_id=report.external_id,
            event_created_at=report.at,
            received_at=now,
            outcome="ignored",
        )
        .on_conflict_do_nothing(constraint="unique_provider_event")
        .returning(ProviderEvent.id)
    ).scalar()
    if event_id is None:
        return "duplicate"
    event = db.session.get(ProviderEvent, event_id)
    assignment = _assignment_for(report.external_id, provider)
    if assignment is None:
        event.outcome = "unknown_delivery"
        db.session.flush()
        return event.outcome
    event.assignment_id = assignment.id
    at = report.at or now
    row = provider_row(assignment, provider)
    _driver(row, report.driver_name, report.driver_location, at)
    if report.tracking_url:
        assignment.tracking_url = report.tracking_url
    if report.status:
        row.provider_status = report.status
        note = f"DoorDash {report.event_name}" + (f": {report.reason}" if report.reason else "")
        change = states.apply_reported(assignment, report.status, at=at, note=note)
        if change is not None:
            event.outcome, event.to_status = "applied", report.status
            if report.status == "delivered" and assignment.proof_of_delivery is None:
                assignment.proof_of_delivery = {
                    "provider": provider,
                    "at": at.isoformat(),
                    **(report.proof or {}),
                }
    db.session.flush()
    return event.outcome


def _assignment_for(external_id: str, provider: str) -> DeliveryAssignment | None:
    try:
        assignment_id = uuid.UUID(external_id)
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.id == assignment_id, DeliveryAssignment.provider == provider)
        .with_for_update()
    )


# --- what the tracking page and admins see -------------------------------------------------


@dataclass(frozen=True)
class ProviderPosition:
    latitude: float
    longitude: float
    at: datetime
    driver_name: str | None


def provider_position(assignment_id: uuid.UUID) -> ProviderPosition | None:
    """The provider's driver's latest reported position for the delivery (its webhooks'
    ``dasher_location``), for the tracking page of a delivery an external provider carries."""
    geometry = sa.cast(ProviderDelivery.driver_location, Geometry)
    row = db.session.execute(
        sa.select(
            sa.func.ST_Y(geometry),
            sa.func.ST_X(geometry),
            ProviderDelivery.driver_location_at,
            ProviderDelivery.driver_name,
        ).where(
            ProviderDelivery.assignment_id == assignment_id,
            ProviderDelivery.driver_location.is_not(None),
        )
    ).one_or_none()
    return None if row is None else ProviderPosition(*row)


# --- what admins see ------------------------------------------------------------------------


@dataclass(frozen=True)
class MarginSummary:
    month: Period
    deliveries: int
    fees_charged: Decimal  # what customers paid for those deliveries
    provider_cost: Decimal  # what the providers charge, tips included
    absorbed: Decimal  # the part of the provider cost above the customer's fee, summed

    @property
    def margin(self) -> Decimal:
        return self.fees_charged - self.provider_cost


def margin_summary(today: date) -> MarginSummary:
    """The month's delivery margin on deliveries booked with a provider."""
    period = Period.containing(today)
    start, end = period.start, period.end
    cost = ProviderDelivery.fee + ProviderDelivery.tip
    fee = sa.func.coalesce(DeliveryAssignment.customer_delivery_fee, 0)
    count, charged, spent, absorbed = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(fee), 0),
            sa.func.coalesce(sa.func.sum(cost), 0),
            sa.func.coalesce(sa.func.sum(sa.func.greatest(cost - fee, 0)), 0),
        )
        .select_from(ProviderDelivery)
        .join(DeliveryAssignment, DeliveryAssignment.id == ProviderDelivery.assignment_id)
        .where(
            ProviderDelivery.booked_at >= start,
            ProviderDelivery.booked_at < end,
            ProviderDelivery.fee.is_not(None),
        )
    ).one()
    return MarginSummary(period, count, Decimal(charged), Decimal(spent), Decimal(absorbed))


def hand_to_provider(order, provider_name: str | None = None) -> DeliveryAssignment:
    """The one way a delivery goes to the external provider (``EXTERNAL_DELIVERY_PROVIDER``
    unless named): the shop chose it at "ready for pickup", or the dispatch found no driver. The
    order's delivery row (made here unless the order has one), and the provider job queued after
    the commit."""
    from ...queues import enqueue_after_commit
    from ..assignments import create_assignment

    provider_name = provider_name or current_app.config["EXTERNAL_DELIVERY_PROVIDER"]
    assignment = create_assignment(order, provider=provider_name)
    assignment.provider = provider_name
    db.session.flush()
    enqueue_after_commit(
        "portal.deliveries.providers.jobs.send_to_provider",
        str(assignment.id),
        job_id=f"provider-send-{assignment.id}",
    )
    return assignment


# The tracking page shows the provider's courier where its webhooks last placed them.
tracking.position_source("doordash")(lambda assignment: provider_position(assignment.id))
