"""The shop's own handling of its orders: accept, mark ready for pickup, cancel with a reason.

These are the vendor's steps between payment and delivery. They never touch money themselves: a
cancellation goes through the order-intake service (``services.cancel_order``), which records a
refund of what is left of a paid order and reverses its commission and fee. Which step an order
may take is ``states.refusal``, for the buttons and the steps alike. Every step locks the order row
first (``services.lock_order``), so two clicks, two staff members or a storefront event racing with
the shop apply one after the other and the second sees the first's result.

Like every service: explicit arguments, domain errors, ``flush()`` and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..clock import utcnow
from ..customers.models import Customer
from ..deliveries.models import DeliveryAssignment
from ..extensions import db
from ..pagination import (
    Cursor,
    KeysetPage,
    PageRequest,
    capped_count,
    ends,
    keyset_rows,
)
from . import numbers, services, states
from .models import Order, OrderItem
from .services import OrderStateConflict

OPEN_PAID_STATUSES = states.OPEN_PAID_STATUSES
#: How far back the "new orders" badge looks when the configuration does not say
#: (``NEW_ORDERS_WINDOW_DAYS``). Orders are partitioned by ``created_at``: the bound keeps the
#: poll on the latest partitions and on ``idx_orders_vendor_date``.
DEFAULT_NEW_ORDERS_WINDOW_DAYS = 30

#: Why a shop cancels: (value, label). "other" needs the free text.
CANCEL_REASONS = (
    ("out_of_stock", "Out of stock"),
    ("cannot_fulfil", "Cannot prepare it in time"),
    ("shop_closed", "Shop closed"),
    ("customer_request", "Customer asked to cancel"),
    ("suspected_fraud", "Suspected fraud"),
    ("other", "Other"),
)
CANCEL_REASON_LABELS = dict(CANCEL_REASONS)

#: The list's status filter: the order's own status, plus the shop's handling steps.
STATUS_FILTERS = (
    ("to_accept", "To accept"),
    ("accepted", "Accepted"),
    ("ready", "Ready for pickup"),
    ("pending", "Awaiting payment"),
    ("paid", "Paid"),
    ("completed", "Completed"),
    ("canceled", "Canceled"),
    ("partially_refunded", "Partially refunded"),
    ("refunded", "Refunded"),
)


#: A search shorter than this (and not an order number) is refused: trigrams need three letters
#: to use the name index (``idx_customers_name_trgm``).
MIN_NAME_SEARCH = 3


class OrderNotFound(LookupError):
    """No such order for this shop (another shop's order is "not found" too)."""


# --- reading -------------------------------------------------------------------------------------


def shop_order(vendor_id: uuid.UUID, order_id: uuid.UUID | str) -> Order:
    """One of the shop's own orders, or ``OrderNotFound``."""
    try:
        order_id = uuid.UUID(str(order_id))
    except ValueError:
        raise OrderNotFound(order_id) from None
    order = db.session.scalar(
        sa.select(Order)
        .where(Order.id == order_id, Order.vendor_id == vendor_id)
        .options(selectinload(Order.items), selectinload(Order.customer))
    )
    if order is None:
        raise OrderNotFound(order_id)
    return order


def awaiting_acceptance():
    """The SQL condition for "paid and not accepted yet" (the badge and the "to accept" filter)."""
    return sa.and_(
        Order.status.in_(OPEN_PAID_STATUSES),
        Order.paid_at.is_not(None),
        Order.accepted_at.is_(None),
        Order.canceled_at.is_(None),
    )


def new_orders_count(vendor_id: uuid.UUID, now: datetime | None = None) -> int:
    """How many of the shop's recent orders wait for it to accept them (the nav badge).

    Polled by every open vendor page, so it must stay cheap: bounded to the last
    ``NEW_ORDERS_WINDOW_DAYS`` on the partition key (only the latest partitions are scanned) and
    served by ``idx_orders_vendor_date (vendor_id, created_at DESC)``.
    """
    now = now or utcnow()
    days = current_app.config.get("NEW_ORDERS_WINDOW_DAYS", DEFAULT_NEW_ORDERS_WINDOW_DAYS)
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Order)
        .where(
            Order.vendor_id == vendor_id,
            Order.created_at >= now - timedelta(days=days),
            awaiting_acceptance(),
        )
    )


@dataclass(frozen=True)
class OrderFilter:
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    number: int | None = None  # the shop's order number (#1042)
    name: str | None = None  # a part of the customer's name

    @property
    def narrows(self) -> bool:
        return any(
            value is not None
            for value in (self.status, self.date_from, self.date_to, self.number, self.name)
        )


@dataclass(frozen=True)
class OrderRow:
    order: Order
    delivery_status: str | None


@dataclass(frozen=True)
class OrderPage(KeysetPage):
    rows: list[OrderRow]
    total_rows: int  # capped at pagination.COUNT_CAP + 1
    has_newer: bool
    has_older: bool
    first: Cursor | None
    last: Cursor | None


def _status_condition(status: str):
    handling = sa.and_(
        Order.status.in_(OPEN_PAID_STATUSES),
        Order.canceled_at.is_(None),
        Order.completed_at.is_(None),
    )
    if status == "to_accept":
        return awaiting_acceptance()
    if status == "accepted":
        return sa.and_(handling, Order.accepted_at.is_not(None), Order.ready_at.is_(None))
    if status == "ready":
        return sa.and_(handling, Order.ready_at.is_not(None))
    return Order.status == status


def order_page(
    vendor_id: uuid.UUID, filters: OrderFilter, at: PageRequest | None = None, per_page: int = 20
) -> OrderPage:
    """A page of the shop's orders, newest first, with each one's delivery status.

    Keyset-paged on ``idx_orders_vendor_date`` and counted only up to ``COUNT_CAP``, so a page of a
    shop with years of orders reads a page of rows, never the whole history. A search by number
    reads one row of ``vendor_order_numbers``; a search by name finds the matching customers
    through the trigram index first, then only their orders of this shop.
    """
    query = sa.select(Order).where(Order.vendor_id == vendor_id)
    if filters.number is not None:
        query = query.where(numbers.numbered(vendor_id, filters.number))
    if filters.name:
        query = query.where(Order.customer_id.in_(_customers_named(filters.name)))
    if filters.status:
        query = query.where(_status_condition(filters.status))
    # Bounds on created_at, the partition key: PostgreSQL reads only the months asked for.
    if filters.date_from:
        query = query.where(
            Order.created_at >= datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        )
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(Order.created_at < end)
    found, has_newer, has_older = keyset_rows(
        # The list shows each line's title and quantity and the customer's name: only those
        # columns are read (the row loader is a third of the page's time; tests/vendors/
        # test_query_counts.py keeps it from turning into a query per row).
        query.options(
            selectinload(Order.items).load_only(OrderItem.title, OrderItem.quantity),
            selectinload(Order.customer).load_only(Customer.full_name),
        ),
        Order.created_at,
        Order.id,
        at or PageRequest(),
        per_page,
    )
    orders = [order for (order,) in found]
    deliveries = delivery_statuses([order.id for order in orders])
    rows = [OrderRow(order, deliveries.get(order.id)) for order in orders]
    return OrderPage(
        rows,
        capped_count(query),
        has_newer,
        has_older,
        *ends(orders),
    )


def delivery_statuses(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The latest delivery assignment's status per order; orders without one are absent."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(DeliveryAssignment.order_id, DeliveryAssignment.status)
        .where(DeliveryAssignment.order_id.in_(order_ids))
        .order_by(DeliveryAssignment.order_id, DeliveryAssignment.created_at.desc())
        .distinct(DeliveryAssignment.order_id)
    ).all()
    return dict(rows)


def delivery_status(order: Order) -> str | None:
    return delivery_statuses([order.id]).get(order.id)


def _customers_named(part: str) -> sa.Select:
    """The customers whose name contains ``part`` (any case; ``%`` and ``_`` match themselves)."""
    escaped = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.select(Customer.id).where(Customer.full_name.ilike(f"%{escaped}%", escape="\\"))


def customer_name(order: Order) -> str:
    """The customer's name as the shop sees it on its orders (to hand the order over)."""
    if order.customer is None or not order.customer.full_name.strip():
        return "—"
    return order.customer.full_name


def handling_step(order: Order) -> str:
    """Where the order is, in the shop's words (what the list shows as its status)."""
    if order.canceled_at is not None or order.status == "canceled":
        return "canceled"
    if order.status in ("pending", "completed", "refunded", "delivered", "fulfilled"):
        return order.status
    if order.ready_at is not None:
        return "ready"
    if order.accepted_at is not None:
        return "accepted"
    return "to_accept"


def can_take(order: Order, action: str) -> bool:
    """Whether the button of ``action`` is shown: exactly when the step would be accepted."""
    return states.allows(order, action)


# --- the shop's steps ----------------------------------------------------------------------------


def accept_order(order: Order, at: datetime | None = None) -> Order:
    """The shop takes the order on: only a paid order it has not accepted, not canceled."""
    at = at or utcnow()
    order = _locked_for(order, "accept")
    order.accepted_at = at
    order.updated_at = at
    db.session.flush()
    return order


def delivery_provider_choices() -> tuple[str, ...]:
    """Who the shop may hand a ready order to instead of the marketplace's drivers: the one
    external provider configured (``EXTERNAL_DELIVERY_PROVIDER``), which the dispatch falls
    back on too."""
    return (current_app.config["EXTERNAL_DELIVERY_PROVIDER"],)


def mark_ready(order: Order, at: datetime | None = None, *, provider: str | None = None) -> Order:
    """The order is packed and waits for pickup: only an accepted order, once.

    Then asks for a driver (``request_delivery_dispatch``), or for the external ``provider`` the
    shop chose (one of ``delivery_provider_choices()``).
    """
    if provider is not None and provider not in delivery_provider_choices():
        raise services.InvalidOrder("Choose our drivers or DoorDash for the delivery.")
    at = at or utcnow()
    order = _locked_for(order, "ready")
    order.ready_at = at
    order.updated_at = at
    db.session.flush()
    if provider is None:
        request_delivery_dispatch(order)
    else:
        request_delivery_dispatch(order, provider=provider)
    return order


def request_delivery_dispatch(order: Order, provider: str | None = None) -> None:
    """Hand the ready order to delivery. Called by ``mark_ready`` inside the same transaction,
    once per order.

    The order's delivery row is made (``deliveries.assignments.create_assignment``: pickup,
    dropoff, the priced trip, the tracking token and PIN). With the shop's choice of the external
    provider it goes there (``hand_to_provider``, its job queued after the commit); otherwise the
    dispatch job offers it to the nearest available driver after the commit, and falls back on
    the provider when nobody takes it (``deliveries.dispatch``).
    """
    if provider:
        from ..deliveries.providers.services import hand_to_provider

        hand_to_provider(order, provider)
    else:
        from ..deliveries.dispatch import request_dispatch

        request_dispatch(order, at=order.ready_at)


def cancel_reason_text(reason: str, note: str | None) -> str:
    """What is stored in ``orders.cancel_reason``: the reason's label, and the shop's note."""
    label = CANCEL_REASON_LABELS.get(reason, reason)
    note = (note or "").strip()
    return f"{label}: {note}"[:255] if note else label


def cancel_problem(reason: str | None, note: str | None) -> tuple[str, str] | None:
    """What is wrong with a cancellation's reason and note, as (field, message), or None: a known
    reason, and for "other" a note saying why (the form shows it beside its field)."""
    if reason not in CANCEL_REASON_LABELS:
        return "reason", "Choose a reason for the cancellation."
    if reason == "other" and not (note or "").strip():
        return "note", "Say why the order is canceled."
    return None


def cancel_by_shop(
    order: Order,
    reason: str,
    note: str | None = None,
    at: datetime | None = None,
    *,
    actor=None,
) -> Order:
    """The shop cancels, with a reason, through order intake: for a paid order, a refund of
    everything left is recorded and its commission and fee reversed (the portal moves no money).
    A completed order has to be refunded instead. Its delivery follows (``services.cancel_order``):
    cancelled before pickup, turned back after."""
    problem = cancel_problem(reason, note)
    if problem:
        raise services.InvalidOrder(problem[1])
    order = _locked_for(order, "shop_cancel")
    return services.cancel_order(
        order, at, reason=cancel_reason_text(reason, note), by="vendor", actor=actor
    )


def _locked_for(order: Order, action: str) -> Order:
    """The order locked and reloaded, or ``OrderStateConflict`` when it may not take ``action``."""
    order = services.lock_order(order)
    refused = states.refusal(order, action)
    if refused:
        raise OrderStateConflict(refused)
    return order
