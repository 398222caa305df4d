"""When an order counts as completed: the one rule commissions (and, later, points) follow.

An order is completed when the storefront says so (``completed_at``) or when it was delivered
(``delivered_at``), whichever came first: the return window starts at delivery, and the
storefront's later ``order.completed`` is still taken. A paid order it never
completes counts as completed ``ORDER_AUTO_COMPLETE_DAYS`` after payment (``paid_at`` + days), so
its commission settles and its vendor is paid, unless an admin has put it on hold (an open
``order_holds`` row). A canceled or fully refunded order is never completed (it settles at zero).

The rule is one SQL expression (``counts_as_completed_at``), used set-based by the settlement and,
for one order, by :func:`completed_at_of`. Holds are placed and released here, by admins, with a
reason; the rows stay as the audit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..admin import audit
from ..clock import utcnow
from ..extensions import db
from ..pagination import Paged, clamp_page
from .models import Order, OrderHold

#: Paid and not over: the statuses in which an uncompleted order waits on the rule.
WAITING_STATUSES = ("paid", "fulfilled", "delivered", "partially_refunded")


class HoldError(ValueError):
    """A hold or release the rules refuse; the message says why."""


def auto_complete_after() -> timedelta:
    return timedelta(days=current_app.config["ORDER_AUTO_COMPLETE_DAYS"])


def on_hold():
    """SQL: the order has an open hold."""
    return (
        sa.select(OrderHold.id)
        .where(
            OrderHold.order_id == Order.id,
            OrderHold.order_created_at == Order.created_at,
            OrderHold.released_at.is_(None),
        )
        .exists()
    )


def waiting_on_auto_completion():
    """SQL: paid, not completed nor delivered, not over (canceled or fully refunded)."""
    return sa.and_(
        Order.paid_at.is_not(None),
        Order.completed_at.is_(None),
        Order.delivered_at.is_(None),
        Order.canceled_at.is_(None),
        Order.status.in_(WAITING_STATUSES),
    )


def counts_as_completed_at():
    """SQL: when the order counts as completed; NULL while it does not (yet)."""
    automatic = sa.case(
        (sa.and_(waiting_on_auto_completion(), ~on_hold()), Order.paid_at + auto_complete_after()),
        else_=sa.null(),
    )
    # LEAST ignores NULLs: the earlier of completion and delivery, else the automatic rule.
    return sa.func.coalesce(sa.func.least(Order.completed_at, Order.delivered_at), automatic)


def completed_at_of(order: Order) -> datetime | None:
    """When ``order`` counts as completed (perhaps in the future), by the same rule."""
    return db.session.scalar(
        sa.select(counts_as_completed_at()).where(
            Order.id == order.id, Order.created_at == order.created_at
        )
    )


# --- the admin's list and holds ------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingOrder:
    order: Order
    completes_at: datetime
    hold: OrderHold | None


@dataclass(frozen=True)
class WaitingPage(Paged):
    rows: list[WaitingOrder]
    page: int
    per_page: int
    total_rows: int


def open_hold(order: Order) -> OrderHold | None:
    return db.session.scalar(
        sa.select(OrderHold).where(
            OrderHold.order_id == order.id,
            OrderHold.order_created_at == order.created_at,
            OrderHold.released_at.is_(None),
        )
    )


def waiting_orders(page: int = 1, per_page: int = 50) -> WaitingPage:
    """Paid orders the storefront has not completed, soonest to count as completed first."""
    query = sa.select(Order).where(waiting_on_auto_completion())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    orders = db.session.scalars(
        query.options(selectinload(Order.vendor))
        .order_by(Order.paid_at, Order.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    holds = {}
    if orders:
        holds = {
            hold.order_id: hold
            for hold in db.session.scalars(
                sa.select(OrderHold)
                .where(
                    OrderHold.order_id.in_([order.id for order in orders]),
                    OrderHold.released_at.is_(None),
                )
                .options(selectinload(OrderHold.held_by))
            )
        }
    after = auto_complete_after()
    rows = [WaitingOrder(order, order.paid_at + after, holds.get(order.id)) for order in orders]
    return WaitingPage(rows, page, per_page, total)


def is_waiting(order: Order) -> bool:
    return bool(
        db.session.scalar(
            sa.select(waiting_on_auto_completion()).where(
                Order.id == order.id, Order.created_at == order.created_at
            )
        )
    )


def waiting_row(order: Order) -> WaitingOrder | None:
    """The list's row of one order; None once it no longer waits (completed, canceled...)."""
    if not is_waiting(order):
        return None
    return WaitingOrder(order, order.paid_at + auto_complete_after(), open_hold(order))


def find_order(order_id: uuid.UUID) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.id == order_id))


def _lock(order: Order) -> Order:
    from .services import lock_order  # services imports this module's rule

    return lock_order(order)


def hold_order(order: Order, reason: str, *, held_by, at: datetime | None = None) -> OrderHold:
    """An admin keeps ``order`` from counting as completed by itself, with a reason."""
    if getattr(held_by, "role", None) != "admin":
        raise HoldError("Only an admin can hold an order.")
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("Say why the order is held.")
    order = _lock(order)
    if not is_waiting(order):
        raise HoldError(
            f"An order that is {order.status.replace('_', ' ')} does not wait on automatic "
            "completion: there is nothing to hold."
        )
    if open_hold(order) is not None:
        raise HoldError("This order is on hold already.")
    hold = OrderHold(
        order_id=order.id,
        order_created_at=order.created_at,
        reason=reason[:255],
        held_by_id=held_by.id,
        held_at=at or utcnow(),
    )
    db.session.add(hold)
    db.session.flush()
    audit.record(
        "order.held", "order", order.id, actor=held_by, label=order.label, reason=hold.reason
    )
    return hold


def release_hold(order: Order, *, released_by, at: datetime | None = None) -> OrderHold:
    """The admin lets the order count as completed again (at ``paid_at`` + days, as before)."""
    if getattr(released_by, "role", None) != "admin":
        raise HoldError("Only an admin can release a hold.")
    order = _lock(order)
    hold = open_hold(order)
    if hold is None:
        raise HoldError("This order is not on hold.")
    hold.released_at = at or utcnow()
    hold.released_by_id = released_by.id
    db.session.flush()
    audit.record("order.hold_released", "order", order.id, actor=released_by, label=order.label)
    return hold


def hold_history(order: Order) -> list[OrderHold]:
    return list(
        db.session.scalars(
            sa.select(OrderHold)
            .where(OrderHold.order_id == order.id)
            .order_by(OrderHold.held_at.desc())
            .options(selectinload(OrderHold.held_by), selectinload(OrderHold.released_by))
        )
    )
