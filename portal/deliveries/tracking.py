"""Following a delivery: the customer's tracking link and rating, the shop's list of its
deliveries, the admin's board.

The customer's link carries the delivery's unguessable ``tracking_token`` and needs no sign-in, so
it shows only the delivery: its status timeline, the ETA, the shop's name, the driver's first
name, the PIN to hand over (while not delivered) and the driver's position while they carry the
order; nothing of the customer (not even the dropoff address). It stops working
``TRACKING_LINK_HOURS_AFTER_END`` hours after the delivery ended (delivered, cancelled or
returned). The link is mailed to the order's customer when a driver first accepts the delivery
(or the provider confirms one): the moment it has something to show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from geoalchemy2 import Geometry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..clock import utcnow
from ..customers.models import Customer
from ..extensions import db
from ..inputs import constraint_of
from ..mail import public_url, send_after_commit
from ..orders.models import Order
from ..pagination import Cursor, KeysetPage, PageRequest, capped_count, ends, keyset_rows
from ..vendors.models import Vendor
from . import states
from .models import DELIVERY_STATUSES, DeliveryAssignment, DeliveryStatusChange, Driver
from .models_tracking import RATING_STARS, DeliveryRating

#: The main path, in order (the statuses up to "delivered"): what the timeline shows ahead of a
#: delivery still on it.
MAIN_PATH = DELIVERY_STATUSES[: DELIVERY_STATUSES.index("delivered") + 1]
#: While a driver carries (or goes to fetch) the order, their position is shown; not before a
#: driver accepted, not on the way back to the shop, and never after the delivery ended.
POSITION_SHOWN = MAIN_PATH[1:-1]
#: After pickup the ETA is a time of day (pickup + the trip's minutes).
AFTER_PICKUP = ("picked_up", "enroute_to_dropoff", "arrived_at_dropoff")
ACTIVE = tuple(status for status in DELIVERY_STATUSES if status not in states.FINISHED)

PROVIDER_NAMES = {"internal": "Marketplace driver", "doordash": "DoorDash"}


def _its_order():
    """The join condition of a delivery and its order (the partition key too)."""
    return sa.and_(
        Order.id == DeliveryAssignment.order_id,
        Order.created_at == DeliveryAssignment.order_created_at,
    )


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider.replace("_", " ").title())


def first_name(full_name: str | None) -> str | None:
    """A driver as the customer and the shop know them: the first word of their name."""
    words = (full_name or "").split()
    return words[0] if words else None


# --- positions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float


class CourierPosition(Protocol):
    """What a provider's reader returns: where its courier is, and their name if it knows it
    (``providers.services.ProviderPosition`` has this shape)."""

    latitude: float
    longitude: float
    driver_name: str | None


#: Where a provider's courier is, for a delivery of that provider: {provider: reader}. The
#: provider's module registers a reader of what its status webhooks stored (``dasher_location``);
#: without one, a provider's delivery shows no position.
_POSITION_SOURCES: dict[str, Callable[[DeliveryAssignment], CourierPosition | None]] = {}


def position_source(provider: str):
    """Register ``reader(assignment) -> CourierPosition | None`` for a provider's deliveries."""

    def register(reader):
        _POSITION_SOURCES[provider] = reader
        return reader

    return register


def latitude_longitude(column) -> tuple:
    """The latitude and longitude of a geography point column, as two SQL expressions."""
    geometry = sa.cast(column, Geometry)
    return sa.func.ST_Y(geometry), sa.func.ST_X(geometry)


def _position(latitude, longitude) -> Position | None:
    if latitude is None or longitude is None:
        return None
    return Position(float(latitude), float(longitude))


@dataclass(frozen=True)
class Positions:
    shop: Position | None  # the pickup point
    driver: Position | None  # None when not shown
    courier_name: str | None = None  # a provider's courier, when its reader says


def delivery_positions(assignment: DeliveryAssignment) -> Positions:
    """The shop's pickup point, and the driver's position while it is shown."""
    pickup = latitude_longitude(DeliveryAssignment.pickup_location)
    driver = latitude_longitude(Driver.current_location)
    row = db.session.execute(
        sa.select(*pickup, *driver)
        .select_from(DeliveryAssignment)
        .outerjoin(Driver, Driver.id == DeliveryAssignment.driver_id)
        .where(DeliveryAssignment.id == assignment.id)
    ).one()
    shop = _position(row[0], row[1])
    if assignment.status not in POSITION_SHOWN:
        return Positions(shop, None)
    if assignment.provider == "internal":
        return Positions(shop, _position(row[2], row[3]))
    reader = _POSITION_SOURCES.get(assignment.provider)
    found = reader(assignment) if reader else None
    if found is None:
        return Positions(shop, None)
    position = Position(float(found.latitude), float(found.longitude))
    return Positions(shop, position, getattr(found, "driver_name", None))


# --- the link and its expiry ---------------------------------------------------------------------


class TrackingUnavailable(LookupError):
    """A tracking link that does not open: unknown (404) or expired (410)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


NO_SUCH_LINK = "There is no delivery at this tracking link. Check that the whole link was copied."
EXPIRED = "This tracking link has expired: it works until {hours} hours after the delivery ends."


def ended_at(history: list[DeliveryStatusChange]) -> datetime | None:
    """When the delivery reached a finished state (delivered, cancelled, returned), or None."""
    for change in reversed(history):
        if change.to_status in states.FINISHED:
            return change.at
    return None


def link_hours() -> int:
    return current_app.config["TRACKING_LINK_HOURS_AFTER_END"]


def expires_at(end: datetime | None) -> datetime | None:
    return end + timedelta(hours=link_hours()) if end is not None else None


def is_expired(end: datetime | None, now: datetime | None = None) -> bool:
    limit = expires_at(end)
    return limit is not None and (now or utcnow()) >= limit


def delivery_for_token(token: str, *, lock: bool = False) -> DeliveryAssignment:
    """The delivery of a tracking token, with its history; :class:`TrackingUnavailable` when
    there is none or its link has expired."""
    if not token or len(token) > 64:
        raise TrackingUnavailable(404, NO_SUCH_LINK)
    query = (
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.tracking_token == token)
        .options(selectinload(DeliveryAssignment.history))
    )
    if lock:
        query = query.with_for_update(of=DeliveryAssignment)
    assignment = db.session.scalar(query)
    if assignment is None:
        raise TrackingUnavailable(404, NO_SUCH_LINK)
    if is_expired(ended_at(assignment.history)):
        raise TrackingUnavailable(410, EXPIRED.format(hours=link_hours()))
    return assignment


def tracking_path(assignment: DeliveryAssignment) -> str | None:
    """The tracking page's path (None without a token); outside a request, from the URL map."""
    if not assignment.tracking_token:
        return None
    if has_request_context():
        return url_for("tracking.page", token=assignment.tracking_token)
    adapter = current_app.url_map.bind("localhost")
    return adapter.build("tracking.page", {"token": assignment.tracking_token})


def _ended_column():
    return (
        sa.select(sa.func.max(DeliveryStatusChange.at))
        .where(
            DeliveryStatusChange.assignment_id == DeliveryAssignment.id,
            DeliveryStatusChange.to_status.in_(states.FINISHED),
        )
        .scalar_subquery()
    )


def latest_deliveries(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, OrderDelivery]:
    """Each order's latest delivery with its link (None once expired), in one statement."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(DeliveryAssignment, _ended_column())
        .where(DeliveryAssignment.order_id.in_(order_ids))
        .order_by(DeliveryAssignment.order_id, DeliveryAssignment.created_at.desc())
        .distinct(DeliveryAssignment.order_id)
    ).all()
    now = utcnow()
    return {
        assignment.order_id: OrderDelivery(
            assignment=assignment,
            label=states.LABELS[assignment.status],
            url=None if is_expired(end, now) else tracking_path(assignment),
        )
        for assignment, end in rows
    }


class ShownDelivery:
    """What the shop's and the admin's views say beside a delivery's status."""

    assignment: DeliveryAssignment

    @property
    def reason(self) -> str | None:
        return shown_reason(self.assignment)

    @property
    def address_flag(self) -> str | None:
        return address_flag(self.assignment)


@dataclass(frozen=True)
class OrderDelivery(ShownDelivery):
    """What an order's page says of its delivery: the status and the tracking link."""

    assignment: DeliveryAssignment
    label: str
    url: str | None


#: What the shop's and the admin's delivery views say of a dropoff with no point.
FLAGS = {
    "not_found": "The map does not know this address: no distance, the driver is paid the "
    "minimum. Check the address with the customer.",
    "failed": "The address could not be looked up on the map: no distance, the driver is paid "
    "the minimum.",
}
NO_POINT = "This address has no point on the map: no distance, the driver is paid the minimum."


def address_flag(assignment) -> str | None:
    """The warning a delivery without a dropoff point carries (what the geocoder made of its
    address, ``dropoff_geocode``), or None when it has one."""
    if assignment.dropoff_location is not None:
        return None
    return FLAGS.get(assignment.dropoff_geocode or "", NO_POINT)


def shown_reason(assignment: DeliveryAssignment) -> str | None:
    """Why a delivery was cancelled or turned back to the shop (the shop and admins see it)."""
    if assignment.status == "cancelled" or assignment.status in states.RETURNING:
        return assignment.status_reason
    return None


def order_delivery(order: Order) -> OrderDelivery | None:
    return latest_deliveries([order.id]).get(order.id)


def tracking_links(orders) -> dict[uuid.UUID, str]:
    """The working tracking links of these orders (the customer's own, on their account page)."""
    found = latest_deliveries([order.id for order in orders])
    return {order_id: found.url for order_id, found in found.items() if found.url}


# --- what the customer's page shows --------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    at: datetime | None  # None: still ahead
    current: bool = False


@dataclass(frozen=True)
class Tracking:
    assignment: DeliveryAssignment
    status: str
    label: str
    final: bool
    steps: list[Step]
    shop_name: str
    driver_name: str | None
    provider: str
    pin: str | None
    eta_minutes: int | None
    expected_at: datetime | None  # after pickup: when it should arrive
    delivered_at: datetime | None
    shop_position: Position | None
    driver_position: Position | None
    rating: DeliveryRating | None
    can_rate: bool


def timeline(assignment: DeliveryAssignment) -> list[Step]:
    """Every step taken, with its time, then the main path's steps still ahead."""
    taken = [Step(c.to_status, states.LABELS[c.to_status], c.at) for c in assignment.history]
    if taken:
        last = taken[-1]
        taken[-1] = Step(last.status, last.label, last.at, current=True)
    if assignment.status in MAIN_PATH and assignment.status not in states.FINISHED:
        ahead = MAIN_PATH[MAIN_PATH.index(assignment.status) + 1 :]
        taken.extend(Step(status, states.LABELS[status], None) for status in ahead)
    return taken


def _entered(assignment: DeliveryAssignment, status: str) -> datetime | None:
    return next((c.at for c in reversed(assignment.history) if c.to_status == status), None)


def delivery_pin(assignment: DeliveryAssignment) -> str | None:
    """The PIN the customer gives the driver: the dispatch side's ``delivery_pin`` column where
    it exists, else a ``pin`` kept in the proof-of-delivery settings."""
    pin = getattr(assignment, "delivery_pin", None) or (assignment.proof_of_delivery or {}).get(
        "pin"
    )
    return str(pin) if pin else None


def tracking_for(assignment: DeliveryAssignment) -> Tracking:
    status = assignment.status
    shop_name = db.session.scalar(sa.select(Vendor.name).where(Vendor.id == assignment.vendor_id))
    driver_name = None
    if assignment.driver_id is not None and status != "created":
        driver_name = first_name(
            db.session.scalar(sa.select(Driver.full_name).where(Driver.id == assignment.driver_id))
        )
    positions = delivery_positions(assignment)
    if driver_name is None and positions.courier_name:
        driver_name = first_name(positions.courier_name)
    picked_up = assignment.pickup_completed_at or _entered(assignment, "picked_up")
    expected = None
    if status in AFTER_PICKUP and picked_up and assignment.eta_minutes is not None:
        expected = picked_up + timedelta(minutes=assignment.eta_minutes)
    pin = delivery_pin(assignment) if status not in states.FINISHED else None
    rating = rating_of(assignment)
    return Tracking(
        assignment=assignment,
        status=status,
        label=states.LABELS[status],
        final=status in states.FINISHED,
        steps=timeline(assignment),
        shop_name=shop_name or "The shop",
        driver_name=driver_name,
        provider=provider_name(assignment.provider),
        pin=pin,
        eta_minutes=assignment.eta_minutes,
        expected_at=expected,
        delivered_at=_entered(assignment, "delivered") if status == "delivered" else None,
        shop_position=positions.shop,
        driver_position=positions.driver,
        rating=rating,
        can_rate=status == "delivered" and rating is None,
    )


# --- rating --------------------------------------------------------------------------------------


class RatingRefused(ValueError):
    """Why this rating is not taken (shown beside the form)."""


ALREADY_RATED = "This delivery is rated already. Thank you!"


def rating_of(assignment: DeliveryAssignment) -> DeliveryRating | None:
    return db.session.scalar(
        sa.select(DeliveryRating).where(DeliveryRating.assignment_id == assignment.id)
    )


def rating_refusal(assignment: DeliveryAssignment) -> str | None:
    """Why the customer cannot rate this delivery now, or None: the page and the service ask."""
    if assignment.status != "delivered":
        return "You can rate the delivery once it is delivered."
    if rating_of(assignment) is not None:
        return ALREADY_RATED
    return None


def rate_delivery(
    assignment: DeliveryAssignment, *, stars: int, comment: str | None = None
) -> DeliveryRating:
    """Rate a delivered delivery, once; the driver's ``rating`` becomes the average of their
    ratings (two decimals, half up). The driver's row is locked first, so two ratings of one
    driver committed at once both count in the average."""
    problem = rating_refusal(assignment)
    if problem:
        raise RatingRefused(problem)
    if stars not in RATING_STARS:
        raise RatingRefused("Choose from 1 to 5 stars.")
    comment = (comment or "").strip() or None
    longest = current_app.config["DELIVERY_RATING_COMMENT_MAX"]
    if comment is not None and len(comment) > longest:
        raise RatingRefused(f"Write at most {longest} characters.")
    driver_id = assignment.driver_id
    if driver_id is not None:
        db.session.execute(sa.select(Driver.id).where(Driver.id == driver_id).with_for_update())
    rating = DeliveryRating(
        assignment_id=assignment.id, driver_id=driver_id, stars=stars, comment=comment
    )
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError as error:
        if constraint_of(error) == "unique_delivery_rating":
            raise RatingRefused(ALREADY_RATED) from error
        raise
    if driver_id is not None:
        average = (
            sa.select(sa.func.round(sa.func.avg(DeliveryRating.stars), 2))
            .where(DeliveryRating.driver_id == driver_id)
            .scalar_subquery()
        )
        db.session.execute(
            sa.update(Driver).where(Driver.id == driver_id).values(rating=average),
            execution_options={"synchronize_session": False},
        )
        driver = db.session.get(Driver, driver_id)
        if driver is not None:
            db.session.expire(driver, ["rating"])
    return rating


# --- the mail with the link ----------------------------------------------------------------------


def send_tracking_link(assignment: DeliveryAssignment) -> bool:
    """Mail the tracking link to the order's customer after the commit; False when there is no
    link or nobody to send it to (a guest order)."""
    if not assignment.tracking_token:
        return False
    order_number, shop_name, email = db.session.execute(
        sa.select(Order.number, Vendor.name, User.email)
        .join(Vendor, Vendor.id == Order.vendor_id)
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .outerjoin(User, User.id == Customer.user_id)
        .where(Order.id == assignment.order_id, Order.created_at == assignment.order_created_at)
    ).one()
    if email is None:
        return False
    send_after_commit(
        email,
        "delivery_tracking",
        link=public_url("tracking.page", token=assignment.tracking_token),
        shop_name=shop_name,
        order_label=f"#{order_number}",
        hours=link_hours(),
    )
    return True


@states.on_entering("confirmed")
def _mail_link_when_first_confirmed(assignment: DeliveryAssignment, at: datetime) -> None:
    # The first "confirmed" only: a delivery an admin reassigns is confirmed again, and the
    # customer has the link already. The history row of this step is in the session (autoflush).
    confirmations = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DeliveryStatusChange)
        .where(
            DeliveryStatusChange.assignment_id == assignment.id,
            DeliveryStatusChange.to_status == "confirmed",
        )
    )
    if confirmations == 1:
        send_tracking_link(assignment)


# --- the shop's deliveries -----------------------------------------------------------------------

#: The vendor list's status filter: everything under way, or one status.
STATUS_FILTERS = (
    ("active", "Under way"),
    *((status, states.LABELS[status]) for status in DELIVERY_STATUSES),
)
VENDOR_PAGE_SIZE = 25


@dataclass(frozen=True)
class DeliveryRow(ShownDelivery):
    assignment: DeliveryAssignment
    order_label: str
    driver_name: str | None
    provider: str

    @property
    def id(self) -> uuid.UUID:
        return self.assignment.id

    @property
    def created_at(self) -> datetime:
        return self.assignment.created_at

    @property
    def label(self) -> str:
        return states.LABELS[self.assignment.status]


@dataclass
class DeliveryPage(KeysetPage):
    rows: list[DeliveryRow]
    total_rows: int
    has_newer: bool
    has_older: bool
    first: Cursor | None
    last: Cursor | None


def _status_condition(status: str | None):
    if status == "active":
        return DeliveryAssignment.status.in_(ACTIVE)
    if status in DELIVERY_STATUSES:
        return DeliveryAssignment.status == status
    return sa.true()


def vendor_deliveries(
    vendor_id: uuid.UUID, status: str | None, at: PageRequest, per_page: int = VENDOR_PAGE_SIZE
) -> DeliveryPage:
    """A page of the shop's deliveries, newest first (only the shop's own: ``vendor_id``)."""
    query = (
        sa.select(DeliveryAssignment, Order.number, Driver.full_name)
        .join(Order, _its_order())
        .outerjoin(Driver, Driver.id == DeliveryAssignment.driver_id)
        .where(DeliveryAssignment.vendor_id == vendor_id, _status_condition(status))
    )
    found, has_newer, has_older = keyset_rows(
        query, DeliveryAssignment.created_at, DeliveryAssignment.id, at, per_page
    )
    rows = [
        DeliveryRow(
            assignment=assignment,
            order_label=f"#{number}",
            driver_name=first_name(full_name),
            provider=provider_name(assignment.provider),
        )
        for assignment, number, full_name in found
    ]
    first, last = ends(rows)
    return DeliveryPage(
        rows=rows,
        total_rows=capped_count(query),
        has_newer=has_newer,
        has_older=has_older,
        first=first,
        last=last,
    )


# --- the admin's board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardDelivery(ShownDelivery):
    assignment: DeliveryAssignment
    order_label: str
    shop_name: str
    driver_name: str | None
    provider: str
    pickup: Position | None
    dropoff: Position | None

    @property
    def label(self) -> str:
        return states.LABELS[self.assignment.status]


@dataclass(frozen=True)
class BoardDriver:
    id: uuid.UUID
    name: str
    status: str
    position: Position


@dataclass(frozen=True)
class Board:
    deliveries: list[BoardDelivery]
    more_deliveries: bool
    drivers: list[BoardDriver]
    more_drivers: bool


def _board_delivery(row, pickup: Position | None = None, dropoff: Position | None = None):
    """A board row from (assignment, order number, shop name, driver's name, ...)."""
    return BoardDelivery(
        assignment=row[0],
        order_label=f"#{row[1]}",
        shop_name=row[2] or "—",
        driver_name=first_name(row[3]),
        provider=provider_name(row[0].provider),
        pickup=pickup,
        dropoff=dropoff,
    )


def board(max_deliveries: int | None = None, max_drivers: int | None = None) -> Board:
    """The deliveries under way (oldest first: the longest waiting lead) and the drivers online
    with a known position, each list bounded (``DELIVERY_BOARD_MAX_*``)."""
    config = current_app.config
    max_deliveries = max_deliveries or config["DELIVERY_BOARD_MAX_DELIVERIES"]
    max_drivers = max_drivers or config["DELIVERY_BOARD_MAX_DRIVERS"]
    delivery_rows = db.session.execute(
        sa.select(
            DeliveryAssignment,
            Order.number,
            Vendor.name,
            Driver.full_name,
            *latitude_longitude(DeliveryAssignment.pickup_location),
            *latitude_longitude(DeliveryAssignment.dropoff_location),
        )
        .join(Order, _its_order())
        .outerjoin(Vendor, Vendor.id == DeliveryAssignment.vendor_id)
        .outerjoin(Driver, Driver.id == DeliveryAssignment.driver_id)
        .where(DeliveryAssignment.status.in_(ACTIVE))
        .order_by(DeliveryAssignment.created_at, DeliveryAssignment.id)
        .limit(max_deliveries + 1)
    ).all()
    driver_rows = db.session.execute(
        sa.select(
            Driver.id, Driver.full_name, Driver.status, *latitude_longitude(Driver.current_location)
        )
        .where(
            Driver.status.in_(("available", "on_delivery")), Driver.current_location.is_not(None)
        )
        .order_by(Driver.id)
        .limit(max_drivers + 1)
    ).all()
    deliveries = [
        _board_delivery(row, _position(row[4], row[5]), _position(row[6], row[7]))
        for row in delivery_rows[:max_deliveries]
    ]
    drivers = [
        BoardDriver(row[0], first_name(row[1]) or "Driver", row[2], Position(row[3], row[4]))
        for row in driver_rows[:max_drivers]
    ]
    return Board(
        deliveries=deliveries,
        more_deliveries=len(delivery_rows) > max_deliveries,
        drivers=drivers,
        more_drivers=len(driver_rows) > max_drivers,
    )


def ended_badly(hours: int | None = None, limit: int | None = None) -> list[BoardDelivery]:
    """The deliveries cancelled or returned in the last ``DELIVERY_BOARD_ENDED_HOURS``, newest
    first, with their reason (the board lists them under the ones under way)."""
    config = current_app.config
    since = utcnow() - timedelta(hours=hours or config["DELIVERY_BOARD_ENDED_HOURS"])
    rows = db.session.execute(
        sa.select(DeliveryAssignment, Order.number, Vendor.name, Driver.full_name)
        .join(Order, _its_order())
        .outerjoin(Vendor, Vendor.id == DeliveryAssignment.vendor_id)
        .outerjoin(Driver, Driver.id == DeliveryAssignment.driver_id)
        .where(
            DeliveryAssignment.status.in_(("cancelled", "returned")),
            DeliveryAssignment.updated_at >= since,
        )
        .order_by(DeliveryAssignment.updated_at.desc(), DeliveryAssignment.id)
        .limit(limit or config["DELIVERY_BOARD_MAX_DELIVERIES"])
    ).all()
    return [_board_delivery(row) for row in rows]


DRIVER_WORDS = {"on_delivery": "on a delivery", "available": "available"}


def board_positions(found: Board) -> dict:
    """The board's map data (a JSON body read by static/js/delivery_board.js)."""

    def pair(position: Position | None):
        return [position.latitude, position.longitude] if position else None

    driver_positions = {driver.id: driver.position for driver in found.drivers}
    return {
        "deliveries": [
            {
                "id": str(item.assignment.id),
                "label": f"{item.order_label} · {item.shop_name} · {item.label}",
                "status": item.assignment.status,
                "pickup": pair(item.pickup),
                "dropoff": pair(item.dropoff),
                "driver": pair(driver_positions.get(item.assignment.driver_id)),
            }
            for item in found.deliveries
        ],
        "drivers": [
            {
                "id": str(driver.id),
                "label": f"{driver.name} · {DRIVER_WORDS.get(driver.status, driver.status)}",
                "status": driver.status,
                "position": pair(driver.position),
            }
            for driver in found.drivers
        ],
    }
