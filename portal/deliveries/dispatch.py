"""Dispatch: a ready order's delivery is offered to the nearest available verified driver, one at a
time, and goes to the external provider when nobody in range takes it.

- ``request_dispatch(order)`` (``orders.handling.request_delivery_dispatch``, at "ready for
  pickup"): the delivery row (``assignments.create_assignment``) and :data:`DISPATCH_JOB` queued
  after the commit.
- ``dispatch_delivery(assignment_id)`` (the RQ job): the delivery's row locked, then the
  ``DISPATCH_CANDIDATES`` nearest available drivers by a KNN scan of the partial GIST index
  ``idx_driver_available_location`` (:data:`NEAREST_AVAILABLE`), the radius
  (``DISPATCH_RADIUS_MILES``) and the drivers already offered this delivery filtered out here in
  Python, then one driver claimed by id with ``FOR UPDATE SKIP LOCKED`` (a driver another
  dispatch is claiming is skipped, not waited for) and checked again after the lock (still
  available, verified; holding no other offer, checked by the statement that inserts the offer,
  ``delivery_offers``), which expires after ``DISPATCH_OFFER_SECONDS``. Nobody in range, or
  ``DISPATCH_MAX_OFFERS`` offers declined or let expire: ``providers.services.hand_to_provider``,
  the one way to the provider.
- ``sweep_offers_job()`` (minutely, portal/scheduling.py): expired offers marked so and their
  deliveries dispatched again; a delivery still looking for a driver with no offer out for
  ``DISPATCH_STALE_SECONDS`` (its job was lost) dispatched again too. Idempotent: a second run
  finds nothing to do.

Why the KNN statement looks as it does (docs/deliveries.md, "Dispatch"): ``status = 'available'``
is a literal, so every plan of it (a generic plan of a prepared statement too) matches the partial
index's predicate; a bound parameter there makes the generic plan skip the index. ``ST_DWithin``
is not put beside ``<->``: on PostgreSQL 15 + PostGIS 3.3 it turns the plan into a bitmap scan
and a sort of every driver in the radius.

Lock order, everywhere: the delivery, then its offers, then the driver.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app
from geoalchemy2 import Geometry

from ..clock import utcnow
from ..extensions import db
from ..queues import enqueue_after_commit
from . import effects  # noqa: F401  (the status effects are registered on import)
from .assignments import create_assignment
from .models import DeliveryAssignment, DeliveryOffer

log = logging.getLogger(__name__)

DISPATCH_JOB = "portal.deliveries.dispatch.dispatch_delivery"
METERS_PER_MILE = 1609.344

#: The nearest available drivers to a point, nearest first, with their sphere distance in metres
#: (the distance ``<->`` orders by). ``status = 'available'`` must stay a literal: see above.
NEAREST_AVAILABLE_SQL = """
    SELECT id,
           ST_Distance(current_location,
                       ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)::geography, false) AS meters
    FROM drivers
    WHERE status = 'available'
    ORDER BY current_location <-> ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)::geography
    LIMIT :k
"""
NEAREST_AVAILABLE = sa.text(NEAREST_AVAILABLE_SQL).columns(
    sa.column("id", sa.Uuid), sa.column("meters", sa.Float)
)

#: One driver locked by id, unless another transaction holds them; what the re-check reads.
CLAIM_DRIVER = sa.text(
    """
    SELECT status, insurance_verified, background_check_status
    FROM drivers WHERE id = :id
    FOR UPDATE SKIP LOCKED
    """
)

#: The offer, made in a statement of its own after the lock, only if the driver holds no other:
#: READ COMMITTED gives it a snapshot taken after the lock, so it sees an offer committed by the
#: dispatch that held the lock before. ON CONFLICT: the partial unique indexes (one pending offer
#: per driver and per delivery) stay the last guard.
OFFER_IF_FREE = sa.text(
    """
    INSERT INTO delivery_offers (assignment_id, driver_id, offered_at, expires_at, outcome,
                                 pickup_distance_miles)
    SELECT :assignment_id, :driver_id, :offered_at, :expires_at, 'pending', :miles
    WHERE NOT EXISTS (SELECT 1 FROM delivery_offers
                      WHERE driver_id = :driver_id AND outcome = 'pending')
    ON CONFLICT DO NOTHING
    RETURNING id
    """
)


@dataclass(frozen=True)
class Claim:
    driver_id: uuid.UUID
    meters: float
    offer_id: uuid.UUID


def to_miles(meters: float) -> Decimal:
    return Decimal(repr(meters / METERS_PER_MILE)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def nearest_available(point: tuple[float, float], k: int) -> list[tuple[uuid.UUID, float]]:
    """The ``k`` nearest available drivers to ``point`` (latitude, longitude): (id, metres)."""
    latitude, longitude = point
    rows = db.session.execute(NEAREST_AVAILABLE, {"lat": latitude, "lng": longitude, "k": k})
    return [(driver_id, meters) for driver_id, meters in rows]


def claim_nearest(
    point: tuple[float, float],
    assignment_id: uuid.UUID,
    *,
    now: datetime,
    exclude: frozenset[uuid.UUID] | set[uuid.UUID] = frozenset(),
    radius_miles: Decimal | None = None,
    candidates: int | None = None,
) -> Claim | None:
    """The nearest free driver within the radius, offered the delivery ``assignment_id``
    (expiring ``DISPATCH_OFFER_SECONDS`` after ``now``) and locked for this transaction; or None.

    The nearest few (``DISPATCH_CANDIDATES``, plus as many as are excluded), the radius and
    ``exclude`` filtered here; then each in turn claimed by id with ``SKIP LOCKED`` and checked
    again after the lock: still ``available``, verified with a clear check, and (in the offer's
    own statement) no offer pending.
    """
    config = current_app.config
    radius = float(radius_miles if radius_miles is not None else config["DISPATCH_RADIUS_MILES"])
    k = (candidates or config["DISPATCH_CANDIDATES"]) + len(exclude)
    expires = now + timedelta(seconds=config["DISPATCH_OFFER_SECONDS"])
    for driver_id, meters in nearest_available(point, k):
        if meters is None or meters > radius * METERS_PER_MILE:
            break  # nearest first: everyone after is farther
        if driver_id in exclude:
            continue
        locked = db.session.execute(CLAIM_DRIVER, {"id": driver_id}).one_or_none()
        if locked is None:
            continue  # another dispatch is claiming them right now
        status, insured, check = locked
        if status != "available" or not insured or check != "clear":
            continue
        offer_id = db.session.scalar(
            OFFER_IF_FREE,
            {
                "assignment_id": assignment_id,
                "driver_id": driver_id,
                "offered_at": now.astimezone(UTC).replace(tzinfo=None),
                "expires_at": expires.astimezone(UTC).replace(tzinfo=None),
                "miles": to_miles(meters),
            },
        )
        if offer_id is not None:
            return Claim(driver_id, meters, offer_id)
    return None


# --- requesting and running the dispatch -------------------------------------------------------


def request_dispatch(order, *, at: datetime | None = None) -> DeliveryAssignment:
    """The ready order's delivery row, offered to our drivers by the job after the commit."""
    assignment = create_assignment(order, provider="internal", at=at)
    if assignment.provider == "internal" and assignment.status == "created":
        enqueue_after_commit(DISPATCH_JOB, str(assignment.id))
    return assignment


@dataclass(frozen=True)
class DispatchResult:
    outcome: str  # offered, waiting, provider, not_dispatchable, gone
    offer: DeliveryOffer | None = None
    reason: str | None = None


def _locked_assignment(assignment_id) -> DeliveryAssignment | None:
    try:
        key = uuid.UUID(str(assignment_id))
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.id == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def pickup_point(assignment: DeliveryAssignment) -> tuple[float, float] | None:
    geometry = sa.cast(DeliveryAssignment.pickup_location, Geometry)
    row = db.session.execute(
        sa.select(sa.func.ST_Y(geometry), sa.func.ST_X(geometry)).where(
            DeliveryAssignment.id == assignment.id
        )
    ).one()
    return None if row[0] is None else (float(row[0]), float(row[1]))


def dispatch(assignment_id, now: datetime | None = None) -> DispatchResult:
    """One dispatch step for the delivery (the job's work; flushes, never commits)."""
    now = now or utcnow()
    assignment = _locked_assignment(assignment_id)
    if assignment is None:
        return DispatchResult("gone")
    if assignment.provider != "internal" or assignment.status != "created" or assignment.driver_id:
        return DispatchResult(
            "not_dispatchable", reason=f"{assignment.provider} {assignment.status}"
        )
    offers = db.session.scalars(
        sa.select(DeliveryOffer)
        .where(DeliveryOffer.assignment_id == assignment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for offer in offers:
        if offer.outcome == "pending":
            if offer.expires_at > now:
                return DispatchResult("waiting", offer)
            offer.outcome, offer.answered_at = "expired", now
    db.session.flush()  # the claim's statements are plain SQL: no autoflush before them
    config = current_app.config
    tries = sum(1 for offer in offers if offer.outcome in ("declined", "expired"))
    if tries >= config["DISPATCH_MAX_OFFERS"]:
        return _to_provider(assignment, f"{tries} offers declined or expired")
    point = pickup_point(assignment)
    if point is None:
        return _to_provider(assignment, "the shop has no pickup point on the map")
    claim = claim_nearest(
        point, assignment.id, now=now, exclude={offer.driver_id for offer in offers}
    )
    if claim is None:
        return _to_provider(assignment, "no driver in range")
    return DispatchResult("offered", db.session.get(DeliveryOffer, claim.offer_id))


def _to_provider(assignment: DeliveryAssignment, reason: str) -> DispatchResult:
    from .providers.services import hand_to_provider

    log.info("delivery %s goes to the external provider: %s", assignment.id, reason)
    hand_to_provider(assignment.order)
    return DispatchResult("provider", reason=reason)


def dispatch_delivery(assignment_id: str) -> str:
    """The RQ job: one dispatch step, committed; its outcome."""
    result = dispatch(assignment_id)
    db.session.commit()
    return result.outcome


# --- the sweep -----------------------------------------------------------------------------------

#: Expire what is due, skipping offers a driver is answering right now (their row is locked).
EXPIRE_DUE = sa.text(
    """
    UPDATE delivery_offers SET outcome = 'expired', answered_at = :now
    WHERE id IN (SELECT id FROM delivery_offers
                 WHERE outcome = 'pending' AND expires_at <= :now
                 FOR UPDATE SKIP LOCKED)
    RETURNING assignment_id
    """
)

#: Our deliveries still looking for a driver, with no offer out, quiet for the stale time.
STALE = sa.text(
    """
    SELECT a.id FROM delivery_assignments a
    WHERE a.status = 'created' AND a.provider = 'internal' AND a.driver_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM delivery_offers o
                      WHERE o.assignment_id = a.id AND o.outcome = 'pending')
      AND GREATEST(a.updated_at,
                   (SELECT max(o.answered_at) FROM delivery_offers o
                    WHERE o.assignment_id = a.id)) <= :before
    """
)


def sweep_offers(now: datetime | None = None) -> dict[str, int]:
    """Expire due offers and queue their deliveries' dispatch again (after the commit), and
    those of deliveries left without an offer; flushes, never commits."""
    now = now or utcnow()
    expired = {row[0] for row in db.session.execute(EXPIRE_DUE, {"now": now.replace(tzinfo=None)})}
    before = now - timedelta(seconds=current_app.config["DISPATCH_STALE_SECONDS"])
    stale = {row[0] for row in db.session.execute(STALE, {"before": before.replace(tzinfo=None)})}
    for assignment_id in sorted(expired | stale, key=str):
        enqueue_after_commit(DISPATCH_JOB, str(assignment_id))
    return {"expired": len(expired), "stale": len(stale - expired)}


def sweep_offers_job() -> dict[str, int]:
    """The periodic job (``expire-delivery-offers``, minutely)."""
    result = sweep_offers()
    db.session.commit()
    return result
