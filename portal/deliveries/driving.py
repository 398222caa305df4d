"""The driver's side of a delivery: the offer they hold, accepting or declining it, the steps of
the delivery they carry, its proof, and what they earned.

A driver only ever reaches their own offers and deliveries: every function takes the driver and
looks rows up with the driver's id, so another driver's is "not found". Like every service:
explicit arguments, domain errors, ``flush()`` and never commit (a wrong PIN's count excepted:
see :class:`WrongPin`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app
from geoalchemy2 import Geometry

from ..clock import marketplace_zone, utcnow
from ..extensions import db
from ..media import ImageRejected, checked_image, store_private, webp_bytes
from . import (
    effects,  # noqa: F401  (the status effects are registered on import)
    states,
)
from .models import DeliveryAssignment, DeliveryOffer, Driver
from .models_tracking import DeliveryRating
from .providers.services import one_line
from .tracking import delivery_pin

PROOF_METHODS = ("signature", "photo", "pin")
PROOF_FOLDER = "proof-of-delivery"
#: The driver's detour from the main path: nobody takes the order at the door.
RETURN_STEP = "enroute_to_return"
RETURN_REASON = "Nobody took the order at the door"
ACTIVE_STATUSES = tuple(
    status for status in states.TRANSITIONS if status not in (*states.FINISHED, "created")
)


#: A status as the driver reads it (``states.LABELS`` speaks to the customer: "On the way to you").
DRIVER_LABELS = {
    "created": "Looking for a driver",
    "confirmed": "Accepted",
    "enroute_to_pickup": "Going to the shop",
    "arrived_at_pickup": "At the shop",
    "picked_up": "Picked up",
    "enroute_to_dropoff": "Going to the customer",
    "arrived_at_dropoff": "At the customer's door",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "enroute_to_return": "Taking it back to the shop",
    "arrived_at_return": "Back at the shop",
    "returned": "Returned to the shop",
}


class NotYours(LookupError):
    """No such offer or delivery for this driver (another driver's is not found either)."""


class OfferRefused(ValueError):
    """The offer cannot be accepted or declined now; the text says why."""


class ProofRefused(ValueError):
    """The proof of delivery is not taken; the text says why."""


class WrongPin(ProofRefused):
    """The PIN does not match. The failed try is counted (flushed): the caller commits it."""


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    label: str
    address: str
    latitude: float | None
    longitude: float | None
    phone: str | None

    @property
    def geo_url(self) -> str:
        """A ``geo:`` URI (Android opens the maps app at it)."""
        if self.latitude is not None and self.longitude is not None:
            where = f"{self.latitude:.6f},{self.longitude:.6f}"
            return f"geo:{where}?q={where}"
        return f"geo:0,0?q={quote(self.address)}"

    @property
    def maps_url(self) -> str:
        """Directions to the stop in a web map (any phone)."""
        if self.latitude is not None and self.longitude is not None:
            destination = f"{self.latitude:.6f},{self.longitude:.6f}"
        else:
            destination = quote(self.address)
        return f"https://www.google.com/maps/dir/?api=1&destination={destination}"


@dataclass(frozen=True)
class OfferView:
    offer: DeliveryOffer
    assignment: DeliveryAssignment
    pickup: Stop
    dropoff: Stop

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.offer.expires_at - utcnow()).total_seconds()))


@dataclass(frozen=True)
class DeliveryView:
    assignment: DeliveryAssignment
    pickup: Stop
    dropoff: Stop
    next_status: str | None  # the big button's step; None when proof is what comes next
    next_label: str | None
    can_return: bool
    needs_proof: bool
    order_label: str

    @property
    def status_label(self) -> str:
        return DRIVER_LABELS[self.assignment.status]

    @property
    def heading_to(self) -> Stop:
        """Where the driver goes next: the shop before pickup and on the way back, else the door."""
        status = self.assignment.status
        before_pickup = ("confirmed", "enroute_to_pickup", "arrived_at_pickup")
        if status in before_pickup or status in ("enroute_to_return", "arrived_at_return"):
            return self.pickup
        return self.dropoff


def _points(assignment: DeliveryAssignment) -> tuple:
    pickup = sa.cast(DeliveryAssignment.pickup_location, Geometry)
    dropoff = sa.cast(DeliveryAssignment.dropoff_location, Geometry)
    return db.session.execute(
        sa.select(
            sa.func.ST_Y(pickup), sa.func.ST_X(pickup), sa.func.ST_Y(dropoff), sa.func.ST_X(dropoff)
        ).where(DeliveryAssignment.id == assignment.id)
    ).one()


def stops(assignment: DeliveryAssignment) -> tuple[Stop, Stop]:
    """The shop and the door, with their points and phone numbers."""
    order = assignment.order
    vendor = order.vendor
    customer = order.customer
    pickup_lat, pickup_lng, dropoff_lat, dropoff_lng = _points(assignment)
    dropoff = assignment.dropoff_address or order.dropoff_address or {}
    pickup = Stop(
        vendor.name,
        one_line(assignment.pickup_address or vendor.pickup_address) or vendor.name,
        pickup_lat,
        pickup_lng,
        vendor.contact_phone,
    )
    door = Stop(
        (customer.full_name.split()[0] if customer and customer.full_name.strip() else "Customer"),
        one_line(dropoff) or "Address not given",
        dropoff_lat,
        dropoff_lng,
        (customer.phone if customer and customer.phone else None) or dropoff.get("phone"),
    )
    return pickup, door


def current_offer(driver: Driver, now: datetime | None = None) -> OfferView | None:
    """The driver's pending offer that has not run out, or None."""
    now = now or utcnow()
    offer = db.session.scalar(
        sa.select(DeliveryOffer).where(
            DeliveryOffer.driver_id == driver.id,
            DeliveryOffer.outcome == "pending",
            DeliveryOffer.expires_at > now,
        )
    )
    if offer is None:
        return None
    pickup, dropoff = stops(offer.assignment)
    return OfferView(offer, offer.assignment, pickup, dropoff)


def delivery_view(assignment: DeliveryAssignment) -> DeliveryView:
    status = assignment.status
    step = states.next_step(status) if status not in states.FINISHED else None
    needs_proof = step == "delivered"
    pickup, dropoff = stops(assignment)
    return DeliveryView(
        assignment=assignment,
        pickup=pickup,
        dropoff=dropoff,
        next_status=None if needs_proof else step,
        next_label=None if needs_proof or step is None else states.NEXT_STEP_LABELS.get(status),
        can_return=RETURN_STEP in states.allowed_next(status),
        needs_proof=needs_proof,
        order_label=assignment.order.label,
    )


def active_delivery(driver: Driver) -> DeliveryAssignment | None:
    """The delivery the driver carries now (accepted and not ended), or None."""
    return db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(
            DeliveryAssignment.driver_id == driver.id,
            DeliveryAssignment.status.in_(ACTIVE_STATUSES),
        )
        .order_by(DeliveryAssignment.updated_at.desc())
        .limit(1)
    )


def own_delivery(driver: Driver, assignment_id, *, lock: bool = False) -> DeliveryAssignment:
    """One of the driver's deliveries (any status), or :class:`NotYours`."""
    try:
        key = uuid.UUID(str(assignment_id))
    except ValueError:
        raise NotYours("There is no such delivery.") from None
    query = sa.select(DeliveryAssignment).where(
        DeliveryAssignment.id == key, DeliveryAssignment.driver_id == driver.id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    assignment = db.session.scalar(query)
    if assignment is None:
        raise NotYours("There is no such delivery.")
    return assignment


@dataclass(frozen=True)
class Earnings:
    deliveries: int
    pay: Decimal
    tips: Decimal

    @property
    def total(self) -> Decimal:
        return self.pay + self.tips


@dataclass(frozen=True)
class DriverSummary:
    today: Earnings
    week: Earnings
    rating: Decimal | None
    ratings: int


def day_and_week_start(now: datetime) -> tuple[datetime, datetime]:
    """Midnight today and on Monday of this week in the marketplace's city, as UTC moments."""
    zone = marketplace_zone()
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), time.min, tzinfo=zone)
    monday = today - timedelta(days=local.weekday())
    return today, monday


def _earned_since(driver: Driver, since: datetime) -> Earnings:
    count, pay, tips = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(DeliveryAssignment.driver_pay), 0),
            sa.func.coalesce(sa.func.sum(DeliveryAssignment.driver_tip), 0),
        ).where(
            DeliveryAssignment.driver_id == driver.id,
            DeliveryAssignment.status == "delivered",
            DeliveryAssignment.delivery_completed_at >= since,
        )
    ).one()
    return Earnings(count, Decimal(pay), Decimal(tips))


def summary(driver: Driver, now: datetime | None = None) -> DriverSummary:
    """Today's and this week's deliveries and earnings (pay plus tips), and the rating."""
    today, monday = day_and_week_start(now or utcnow())
    ratings = db.session.scalar(
        sa.select(sa.func.count()).where(DeliveryRating.driver_id == driver.id)
    )
    return DriverSummary(
        _earned_since(driver, today), _earned_since(driver, monday), driver.rating, ratings
    )


# --- the offer -------------------------------------------------------------------------------


def _own_offer(driver: Driver, offer_id) -> DeliveryOffer:
    try:
        key = uuid.UUID(str(offer_id))
    except ValueError:
        raise NotYours("There is no such offer.") from None
    offer = db.session.scalar(
        sa.select(DeliveryOffer).where(
            DeliveryOffer.id == key, DeliveryOffer.driver_id == driver.id
        )
    )
    if offer is None:
        raise NotYours("There is no such offer.")
    return offer


def _locked_offer(driver: Driver, offer_id) -> tuple[DeliveryOffer, DeliveryAssignment]:
    """The offer and its delivery, locked in the dispatch's order: the delivery, then the offer."""
    offer = _own_offer(driver, offer_id)
    assignment = db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.id == offer.assignment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    offer = db.session.scalar(
        sa.select(DeliveryOffer)
        .where(DeliveryOffer.id == offer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return offer, assignment


def _answerable(offer: DeliveryOffer, now: datetime) -> None:
    if offer.outcome == "accepted":
        raise OfferRefused("You accepted this delivery already.")
    if offer.outcome == "declined":
        raise OfferRefused("You declined this delivery.")
    if offer.outcome == "withdrawn":
        raise OfferRefused("This delivery was taken back: it is no longer offered to you.")
    if offer.outcome == "expired" or offer.expires_at <= now:
        raise OfferRefused("This offer has expired: it went to the next driver.")


def accept_offer(
    driver: Driver, offer_id, *, actor=None, now: datetime | None = None
) -> DeliveryAssignment:
    """The driver takes the delivery: it is ``confirmed`` with them as its driver, and they are
    ``on_delivery``. :class:`OfferRefused` when it expired, was answered or withdrawn."""
    now = now or utcnow()
    offer, assignment = _locked_offer(driver, offer_id)
    _answerable(offer, now)
    locked = db.session.scalar(
        sa.select(Driver)
        .where(Driver.id == driver.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked.status != "available":
        raise OfferRefused("Go online to accept deliveries.")
    problem = states.refusal(assignment, "confirmed")
    if problem or assignment.driver_id is not None or assignment.provider != "internal":
        raise OfferRefused("This delivery is no longer available.")
    offer.outcome, offer.answered_at = "accepted", now
    assignment.driver_id = locked.id
    locked.status = "on_delivery"
    states.advance(
        assignment, "confirmed", source="driver", actor=actor, at=now, note="Accepted the offer"
    )
    db.session.flush()
    return assignment


def decline_offer(driver: Driver, offer_id, *, now: datetime | None = None) -> DeliveryOffer:
    """The driver turns the delivery down; the dispatch offers it to the next nearest driver
    (the caller queues the job after the commit: ``dispatch.DISPATCH_JOB``)."""
    now = now or utcnow()
    offer, _assignment = _locked_offer(driver, offer_id)
    _answerable(offer, now)
    offer.outcome, offer.answered_at = "declined", now
    db.session.flush()
    return offer


def hand_back_offers(driver: Driver, *, now: datetime | None = None) -> list[uuid.UUID]:
    """A driver who goes offline (or is taken offline) gives back the offer they hold: it is
    ``withdrawn`` and its delivery dispatched again after the commit. Returns the deliveries."""
    from ..queues import enqueue_after_commit
    from .dispatch import DISPATCH_JOB

    now = now or utcnow()
    handed_back = db.session.scalars(
        sa.update(DeliveryOffer)
        .where(DeliveryOffer.driver_id == driver.id, DeliveryOffer.outcome == "pending")
        .values(outcome="withdrawn", answered_at=now)
        .returning(DeliveryOffer.assignment_id),
        execution_options={"synchronize_session": False},
    ).all()
    for assignment_id in handed_back:
        enqueue_after_commit(DISPATCH_JOB, str(assignment_id))
    return list(handed_back)


# --- the steps -------------------------------------------------------------------------------


def advance_delivery(
    driver: Driver, assignment_id, to_status: str, *, actor=None, at: datetime | None = None
) -> DeliveryAssignment:
    """The driver's next step (the big button) or the way back to the shop. A step the delivery
    has just taken is no change (a tap sent twice); ``delivered`` needs a proof
    (:func:`prove_delivery`)."""
    assignment = own_delivery(driver, assignment_id, lock=True)
    if assignment.status == to_status:
        return assignment
    if to_status == "delivered":
        raise states.IllegalTransition(
            "Take the proof of delivery (signature, photo or the customer's PIN) to finish."
        )
    legal = {states.next_step(assignment.status)}
    if RETURN_STEP in states.allowed_next(assignment.status):
        legal.add(RETURN_STEP)
    if to_status not in legal - {None}:
        raise states.IllegalTransition(
            states.refusal(assignment, to_status)
            or f"A delivery that is “{states.LABELS[assignment.status]}” does not go there next."
        )
    note = RETURN_REASON if to_status in (RETURN_STEP, "returned") else None
    states.advance(assignment, to_status, source="driver", actor=actor, at=at, note=note)
    return assignment


# --- proof of delivery -----------------------------------------------------------------------

DATA_URL_PREFIX = "data:image/png;base64,"


def _signature_png(data_url: str | None) -> bytes:
    """The drawn signature, checked (a PNG, not empty, within the size) and re-encoded."""

    if not data_url or not data_url.startswith(DATA_URL_PREFIX):
        raise ProofRefused("Draw the customer's signature in the box first.")
    longest = current_app.config["DELIVERY_SIGNATURE_MAX_BYTES"]
    encoded = data_url[len(DATA_URL_PREFIX) :]
    if len(encoded) > longest * 4 // 3 + 4:
        raise ProofRefused("That signature is too large to keep; clear it and sign again.")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ProofRefused("The signature did not come through; clear it and sign again.") from None
    try:
        image = checked_image(io.BytesIO(raw), 1200, formats={"PNG"}, refusal="Not a PNG image.")
    except ImageRejected:
        raise ProofRefused("The signature did not come through; clear it and sign again.") from None
    alpha = image.convert("RGBA").getchannel("A")
    if alpha.getbbox() is None:
        raise ProofRefused("Draw the customer's signature in the box first.")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _photo_webp(upload) -> bytes:
    if upload is None or not getattr(upload, "filename", None):
        raise ProofRefused("Take a photo of the order at the door first.")
    try:
        image = checked_image(upload, current_app.config["DELIVERY_PHOTO_MAX_PIXELS"])
    except ImageRejected as rejected:
        raise ProofRefused(str(rejected)) from None
    return webp_bytes(image)


def _position(driver: Driver, posted: tuple[float, float] | None) -> dict | None:
    """Where the proof was taken: the phone's position sent with it, else the driver's last."""
    if posted is not None:
        return {"latitude": posted[0], "longitude": posted[1], "source": "phone"}
    geometry = sa.cast(Driver.current_location, Geometry)
    row = db.session.execute(
        sa.select(sa.func.ST_Y(geometry), sa.func.ST_X(geometry)).where(Driver.id == driver.id)
    ).one()
    if row[0] is None:
        return None
    return {"latitude": float(row[0]), "longitude": float(row[1]), "source": "last_position"}


def parse_position(latitude: str | None, longitude: str | None) -> tuple[float, float] | None:
    """A position posted with a form, or None when absent or not a point on Earth."""
    try:
        lat, lng = float(latitude or ""), float(longitude or "")
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lng <= 180:
        return lat, lng
    return None


def prove_delivery(
    driver: Driver,
    assignment_id,
    method: str,
    *,
    actor=None,
    pin: str | None = None,
    signature: str | None = None,
    photo=None,
    position: tuple[float, float] | None = None,
    at: datetime | None = None,
) -> DeliveryAssignment:
    """The proof at the door, then ``delivered``: a signature drawn on the phone (a PNG data
    URL), a photo, or the customer's PIN checked against the delivery's. Each is kept in
    ``proof_of_delivery`` with its time and position (a file in the shop's private area, which
    its members and admins can open)."""
    at = at or utcnow()
    assignment = own_delivery(driver, assignment_id, lock=True)
    if method not in PROOF_METHODS:
        raise ProofRefused("Choose a signature, a photo or the customer's PIN.")
    if assignment.status == "delivered":
        raise ProofRefused("This delivery is delivered already.")
    if assignment.status != "arrived_at_dropoff":
        raise ProofRefused("Proof is taken at the door: tap “Arrived at the customer” first.")
    proof = dict(assignment.proof_of_delivery or {})
    kept: dict = {"method": method, "at": at.isoformat(), "position": _position(driver, position)}
    if method == "pin":
        attempts = int(proof.get("pin_attempts", 0))
        if attempts >= current_app.config["DELIVERY_PIN_MAX_ATTEMPTS"]:
            raise ProofRefused("Too many wrong PINs: take a signature or a photo instead.")
        expected = delivery_pin(assignment)
        given = "".join((pin or "").split())
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            proof["pin_attempts"] = attempts + 1
            assignment.proof_of_delivery = proof
            db.session.flush()
            left = current_app.config["DELIVERY_PIN_MAX_ATTEMPTS"] - attempts - 1
            raise WrongPin(f"That PIN is not this delivery's. {left} tries left.")
        kept["pin_verified"] = True
    elif method == "signature":
        data = _signature_png(signature)
        kept["signature"] = store_private(
            assignment.vendor_id, PROOF_FOLDER, f"{assignment.id}-signature.png", data
        )
    else:
        data = _photo_webp(photo)
        kept["photo"] = store_private(
            assignment.vendor_id, PROOF_FOLDER, f"{assignment.id}-photo.webp", data
        )
    proof.update(kept)
    assignment.proof_of_delivery = proof
    states.advance(assignment, "delivered", source="driver", actor=actor, at=at, note=method)
    return assignment
