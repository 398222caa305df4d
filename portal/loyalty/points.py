"""The points service: every change to a customer's points goes through here.

The ledger (``points_transactions``) is the truth: the spendable balance is the sum of a
customer's rows and never goes below zero. Each row carries ``balance_before``/``balance_after``
and is written under a row lock on the customer's ``points_balances`` row (``SELECT … FOR
UPDATE``), which is updated in the same transaction (balance, lifetime earned and redeemed, tier),
so concurrent redemptions and earnings apply one after the other and none is lost.

Points that are not spendable yet, or not any more, live outside the ledger:

* a paid order's points wait in ``points_pending_earns`` until its return window closes (the
  commissions' rule, ``orders/completion.py``: ``RETURN_WINDOW_DAYS`` after the order counts as
  completed), then :func:`settle_due` turns them into ``earned`` rows that expire
  ``POINTS_EXPIRY_MONTHS`` later;
* points set aside for an unpaid order (or asked for by an outside storefront) live in
  ``points_holds`` until payment redeems them or a cancellation or ``POINTS_HOLD_MINUTES`` release
  them.

Credits (``earned``, ``returned`` and positive ``adjusted`` rows) all carry an ``expires_at``;
debits (``redeemed``, ``expired``, ``clawed_back``, negative ``adjusted``) consume them oldest
first. :func:`remaining_credits` is that FIFO rule, once, for expiry and for what the customer
sees expiring soon.

Functions flush and never commit: the caller (a view, a job, intake) commits or rolls back.
"""

from __future__ import annotations

import calendar
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from ..admin import audit
from ..clock import UTCDateTime, utcnow
from ..extensions import db
from ..orders import completion
from ..orders.models import Order
from . import rules
from .models import (
    PointsBalance,
    PointsClawbackShortfall,
    PointsHold,
    PointsPendingEarn,
    PointsTransaction,
)

#: Rows that add spendable points (and expire); a negative ``adjusted`` row is a debit.
CREDIT_TYPES = ("earned", "returned", "adjusted")
#: How many customers one batch of the expiry job locks and writes at once.
EXPIRY_BATCH = 500


class PointsError(ValueError):
    """A points change the rules refuse; the message says why, in the customer's terms."""


class NotEnoughPoints(PointsError):
    pass


class UnknownHold(PointsError):
    pass


# --- small rules ---------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months later; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_for(at: datetime) -> datetime:
    return add_months(at, current_app.config["POINTS_EXPIRY_MONTHS"])


def points_for_discount(discount: Decimal) -> int:
    """The points a dollar discount costs (rounded up: points never buy more than their value)."""
    points = Decimal(discount) * current_app.config["POINTS_PER_DOLLAR_REDEEMED"]
    return int(points.to_integral_value(ROUND_CEILING))


def hold_duration() -> timedelta:
    return timedelta(minutes=current_app.config["POINTS_HOLD_MINUTES"])


def _order_ref(order: Order | None) -> dict:
    if order is None:
        return {"order_id": None, "order_created_at": None}
    return {"order_id": order.id, "order_created_at": order.created_at}


def _of_order(model, order: Order):
    return sa.and_(model.order_id == order.id, model.order_created_at == order.created_at)


# --- the balance row and the one ledger writer ---------------------------------------------------


def _ensure_balances(customer_ids: Iterable[uuid.UUID]) -> None:
    """Create missing balance rows; two transactions racing to create one both succeed."""
    ids = sorted(set(customer_ids))
    if ids:
        db.session.execute(
            insert(PointsBalance)
            .values([{"customer_id": customer_id} for customer_id in ids])
            .on_conflict_do_nothing(index_elements=["customer_id"])
        )


def _lock_balances(customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PointsBalance]:
    """The customers' balance rows, created if need be, locked until the transaction ends.

    Locked in customer id order, so two batches over the same customers cannot deadlock.
    """
    ids = sorted(set(customer_ids))
    _ensure_balances(ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(PointsBalance)
        .where(PointsBalance.customer_id.in_(ids))
        .order_by(PointsBalance.customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.customer_id: row for row in rows}


def lock_balance(customer_id: uuid.UUID) -> PointsBalance:
    return _lock_balances([customer_id])[customer_id]


def _restand(balance: PointsBalance) -> None:
    standing = rules.tier_standing(balance.lifetime_earned)
    balance.tier = standing.tier
    balance.tier_progress = standing.progress
    balance.next_tier_threshold = standing.next_threshold


def _row(
    balance: PointsBalance,
    type_: str,
    amount: int,
    reason: str,
    at: datetime,
    *,
    order: Order | None = None,
    expires_at: datetime | None = None,
    earned: int = 0,
    redeemed: int = 0,
) -> dict:
    """One ledger row's values, applied to the (locked) ``balance``: its running total, lifetime
    earned and redeemed (by ``earned``/``redeemed``) and the tier they give."""
    before = balance.current_balance
    after = before + amount
    if after < 0:
        raise NotEnoughPoints(f"That needs {-amount} points; the balance is {before}.")
    balance.current_balance = after
    balance.lifetime_earned = max(0, balance.lifetime_earned + earned)
    balance.lifetime_redeemed = max(0, balance.lifetime_redeemed + redeemed)
    _restand(balance)
    return {
        "id": uuid.uuid4(),
        "customer_id": balance.customer_id,
        "type": type_,
        "amount": amount,
        "reason": reason[:255],
        "balance_before": before,
        "balance_after": after,
        "expires_at": expires_at,
        "created_at": at,
        **_order_ref(order),
    }


def _write(rows: list[dict]) -> None:
    """Insert ledger rows (one multi-row statement) and flush the balances they moved."""
    if rows:
        db.session.execute(sa.insert(PointsTransaction), rows)
    db.session.flush()


def _post(
    balance: PointsBalance, type_: str, amount: int, reason: str, at: datetime | None, **kwargs
) -> PointsTransaction:
    row = _row(balance, type_, amount, reason, at or utcnow(), **kwargs)
    _write([row])
    return db.session.get(PointsTransaction, row["id"])


# --- earning -------------------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(days=current_app.config["RETURN_WINDOW_DAYS"])


def earn_on_payment(order: Order, at: datetime | None = None) -> PointsPendingEarn | None:
    """A paid order's points, pending until its return window closes: the merchandise paid for
    with money (subtotal less the points discount) at the customer's tier at payment."""
    if order.customer_id is None:
        return None
    balance = lock_balance(order.customer_id)
    points = rules.points_for(order.subtotal - order.points_discount, balance.tier)
    if points <= 0:
        return None
    completes = completion.completed_at_of(order) or (at or utcnow())
    pending = PointsPendingEarn(
        customer_id=order.customer_id,
        **_order_ref(order),
        points=points,
        available_at=completes + _window(),
        created_at=at or utcnow(),
    )
    db.session.add(pending)
    db.session.flush()
    return pending


def _window_closed(now: datetime):
    """SQL: the pending earn's order is past its return window (the commissions' rule)."""
    return sa.and_(
        PointsPendingEarn.order_id == Order.id,
        PointsPendingEarn.order_created_at == Order.created_at,
        completion.counts_as_completed_at() <= now - _window(),
    )


def settle_due(now: datetime | None = None, *, after_batch=None) -> int:
    """Turn the pending earns whose return window has closed into ``earned`` rows expiring
    ``POINTS_EXPIRY_MONTHS`` later; return how many. Set-based (per batch of customers: one lock
    statement, one ``DELETE … RETURNING``, one multi-row insert); running it again settles
    nothing. ``after_batch`` (the job's commit) runs after each batch.

    Then refreshes the other pending earns' ``available_at`` (a delivery moves the window), so
    what the customer is told matches the rule. Last, and without balance locks held for those
    rows' customers: a refund holds a balance, then its pending earn, and must not meet this
    holding them the other way round.
    """
    now = now or utcnow()
    customers = db.session.scalars(
        sa.select(PointsPendingEarn.customer_id).where(_window_closed(now)).distinct()
    ).all()
    settled = 0
    for start in range(0, len(customers), EXPIRY_BATCH):
        batch = customers[start : start + EXPIRY_BATCH]
        balances = _lock_balances(batch)
        # After the lock: a concurrent settlement's deletions are seen, so nothing settles twice.
        due = db.session.execute(
            sa.delete(PointsPendingEarn)
            .where(PointsPendingEarn.customer_id.in_(batch), _window_closed(now))
            .returning(
                PointsPendingEarn.customer_id,
                PointsPendingEarn.order_id,
                PointsPendingEarn.order_created_at,
                PointsPendingEarn.points,
                PointsPendingEarn.available_at,
            )
            .execution_options(synchronize_session=False)
        ).all()
        rows = []
        for pending in sorted(due, key=lambda p: (p.customer_id, p.available_at, p.order_id)):
            row = _row(
                balances[pending.customer_id],
                "earned",
                pending.points,
                "Order's return window closed",
                now,
                expires_at=expiry_for(now),
                earned=pending.points,
            )
            row.update(order_id=pending.order_id, order_created_at=pending.order_created_at)
            rows.append(row)
        _write(rows)
        settled += len(rows)
        if after_batch is not None:
            after_batch()
    db.session.execute(
        sa.update(PointsPendingEarn)
        .where(
            PointsPendingEarn.order_id == Order.id,
            PointsPendingEarn.order_created_at == Order.created_at,
            completion.counts_as_completed_at().is_not(None),
            # Only rows whose date moved: a quiet night rewrites nothing.
            PointsPendingEarn.available_at != completion.counts_as_completed_at() + _window(),
        )
        .values(available_at=completion.counts_as_completed_at() + _window())
        .execution_options(synchronize_session=False)
    )
    _forget(PointsPendingEarn)
    return settled


def _forget(model) -> None:
    """Objects a bulk statement changed would keep their old state in the session."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, model):
            db.session.expire(obj)


# --- holds and redemption ------------------------------------------------------------------------


def held_points(customer_id: uuid.UUID) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsHold.points), 0)).where(
            PointsHold.customer_id == customer_id
        )
    )


def _take_hold(balance: PointsBalance, points: int, **fields) -> PointsHold:
    if points <= 0:
        raise PointsError("A hold needs at least one point.")
    free = balance.current_balance - held_points(balance.customer_id)
    if points > free:
        raise NotEnoughPoints(
            f"{points} points were asked for; {max(free, 0)} are free to spend "
            f"(balance {balance.current_balance}, held {balance.current_balance - free})."
        )
    hold = PointsHold(customer_id=balance.customer_id, points=points, **fields)
    db.session.add(hold)
    db.session.flush()
    return hold


def hold_for_order(order: Order, at: datetime | None = None) -> PointsHold:
    """Set aside the points that pay ``order.points_discount`` (an order placed with points)."""
    at = at or order.created_at
    if order.customer_id is None:
        raise PointsError("Only a customer's order can be paid with points.")
    points = points_for_discount(order.points_discount)
    return _take_hold(
        lock_balance(order.customer_id),
        points,
        source="order",
        expires_at=at + hold_duration(),
        created_at=at,
        **_order_ref(order),
    )


def hold_external(
    customer_id: uuid.UUID, points: int, at: datetime | None = None, *, reference: str | None = None
) -> PointsHold:
    """An outside storefront sets ``points`` aside before placing the order; the hold's
    ``reference`` (given, or a random one) is what its ``order.placed`` names."""
    at = at or utcnow()
    return _take_hold(
        lock_balance(customer_id),
        points,
        source="external",
        reference=reference or f"ph_{secrets.token_urlsafe(18)}",
        expires_at=at + hold_duration(),
        created_at=at,
    )


def find_hold(reference: str) -> PointsHold | None:
    return db.session.scalar(sa.select(PointsHold).where(PointsHold.reference == reference))


def attach_hold(order: Order, reference: str) -> PointsHold:
    """The external hold ``reference`` backs ``order``'s points discount, which must be worth
    exactly the held points. The hold then lives as long as an order's own would."""
    hold = find_hold(reference)
    if hold is None:
        raise UnknownHold(f"There is no points hold {reference} (released or never made).")
    if hold.order_id is not None:
        raise PointsError(f"Points hold {reference} backs another order already.")
    if hold.customer_id != order.customer_id:
        raise PointsError(f"Points hold {reference} belongs to another customer.")
    if hold.expires_at <= order.created_at:
        raise PointsError(f"Points hold {reference} had expired when the order was placed.")
    value = rules.points_value(hold.points)
    if value != order.points_discount:
        raise PointsError(
            f"Points hold {reference} is {hold.points} points, worth {value}; the order's "
            f"points_discount is {order.points_discount}."
        )
    hold.order_id, hold.order_created_at = order.id, order.created_at
    hold.expires_at = max(hold.expires_at, order.created_at + hold_duration())
    db.session.flush()
    return hold


def order_hold(order: Order) -> PointsHold | None:
    return db.session.scalar(sa.select(PointsHold).where(_of_order(PointsHold, order)))


def redeem_for_order(order: Order, at: datetime | None = None) -> PointsTransaction | None:
    """At payment the order's hold becomes a ``redeemed`` row. An order without a hold (its
    discount is the marketplace's, or the hold lapsed) redeems nothing. Should expiry or a
    clawback have taken the balance below the hold since, what is left is redeemed."""
    hold = order_hold(order)
    if hold is None:
        return None
    balance = lock_balance(hold.customer_id)
    points = min(hold.points, balance.current_balance)
    db.session.delete(hold)
    db.session.flush()
    if points <= 0:
        return None
    return _post(
        balance,
        "redeemed",
        -points,
        f"Redeemed on order {order.label}",
        at,
        order=order,
        redeemed=points,
    )


def release_for_order(order: Order) -> int:
    """A canceled (or never paid) order gives its held points back; returns how many."""
    hold = order_hold(order)
    if hold is None:
        return 0
    db.session.delete(hold)
    db.session.flush()
    return hold.points


def release_hold(reference: str) -> PointsHold:
    """An outside storefront lets its hold go (it did not place the order after all)."""
    hold = find_hold(reference)
    if hold is None:
        raise UnknownHold(f"There is no points hold {reference} (released or never made).")
    if hold.order_id is not None:
        order = db.session.get(Order, hold.order_id)
        raise PointsError(
            f"Points hold {reference} backs order {order.label if order else hold.order_id}; "
            "cancel the order to release it."
        )
    db.session.delete(hold)
    db.session.flush()
    return hold


def release_expired_holds(now: datetime | None = None) -> int:
    """Delete every hold past its ``expires_at`` (orders never paid, external holds never used);
    one statement, so a replay releases nothing more."""
    result = db.session.execute(
        sa.delete(PointsHold)
        .where(PointsHold.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    _forget(PointsHold)
    return result.rowcount


# --- admin adjustment ----------------------------------------------------------------------------


def adjust(
    customer_id: uuid.UUID, points: int, reason: str, *, actor, at: datetime | None = None
) -> PointsTransaction:
    """An admin adds (``points`` > 0) or takes away points, with a reason; audited.

    Added points expire like earned ones and do not count towards the tier (that is earned by
    buying). Taking more than the balance is refused.
    """
    if getattr(actor, "role", None) != "admin":
        raise PointsError("Only an admin can adjust points.")
    reason = (reason or "").strip()
    if not reason:
        raise PointsError("Say why the points are adjusted.")
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise PointsError("Adjust by a whole number of points other than zero.")
    at = at or utcnow()
    balance = lock_balance(customer_id)
    if balance.current_balance + points < 0:
        raise NotEnoughPoints(
            f"The balance is {balance.current_balance} points: taking {-points} would take it "
            "below zero."
        )
    row = _post(
        balance,
        "adjusted",
        points,
        reason,
        at,
        expires_at=expiry_for(at) if points > 0 else None,
    )
    audit.record(
        "points.adjusted",
        "customer",
        customer_id,
        actor=actor,
        points=points,
        reason=row.reason,
        balance_after=row.balance_after,
    )
    return row


# --- refunds -------------------------------------------------------------------------------------


def _order_sum(type_: str, order: Order) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsTransaction.amount), 0)).where(
            PointsTransaction.type == type_, _of_order(PointsTransaction, order)
        )
    )


def _kept_share(points: int, kept_after: Decimal, kept_before: Decimal) -> int:
    """Of ``points`` tied to merchandise ``kept_before``, those that stay with ``kept_after``."""
    if kept_before <= 0 or kept_after <= 0:
        return 0
    return int(points * kept_after // kept_before)


def reverse_for_refund(order: Order, refund, at: datetime | None = None) -> None:
    """A refund of merchandise claws back what it earned and returns redeemed points, both in
    proportion to the merchandise refunded (of what was left before this refund).

    Not yet settled: the pending earn shrinks. Settled: a ``clawed_back`` row (lifetime earned goes
    down, the tier follows); more than the balance takes it to zero and the rest is recorded in
    ``points_clawback_shortfalls``. Redeemed points come back as a ``returned`` row.
    """
    if order.customer_id is None or refund.subtotal_amount <= 0:
        return
    at = at or refund.created_at or utcnow()
    kept_after = order.subtotal - order.refunded_subtotal
    kept_before = kept_after + refund.subtotal_amount
    balance = lock_balance(order.customer_id)

    pending = db.session.scalar(
        sa.select(PointsPendingEarn).where(_of_order(PointsPendingEarn, order))
    )
    if pending is not None:
        pending.points = _kept_share(pending.points, kept_after, kept_before)
        if pending.points == 0:
            db.session.delete(pending)
        db.session.flush()
    else:
        shortfall = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(PointsClawbackShortfall.points), 0)).where(
                _of_order(PointsClawbackShortfall, order)
            )
        )
        standing = _order_sum("earned", order) + _order_sum("clawed_back", order) - shortfall
        claw = standing - _kept_share(standing, kept_after, kept_before)
        if claw > 0:
            taken = min(claw, balance.current_balance)
            if claw > taken:
                db.session.add(
                    PointsClawbackShortfall(
                        customer_id=order.customer_id,
                        **_order_ref(order),
                        points=claw - taken,
                        reason=f"Refund {refund.refund_ref} of order {order.label}: points "
                        "already spent",
                        created_at=at,
                    )
                )
            row = _row(
                balance,
                "clawed_back",
                -taken,
                f"Refund {refund.refund_ref} of order {order.label}",
                at,
                order=order,
                earned=-claw,
            )
            _write([row])

    redeemed = -_order_sum("redeemed", order) - _order_sum("returned", order)
    give_back = redeemed - _kept_share(redeemed, kept_after, kept_before)
    if give_back > 0:
        _post(
            balance,
            "returned",
            give_back,
            f"Points back for refund {refund.refund_ref} of order {order.label}",
            at,
            order=order,
            expires_at=expiry_for(at),
            redeemed=-give_back,
        )


# --- expiry --------------------------------------------------------------------------------------


def remaining_credits(customer_ids: Iterable[uuid.UUID] | None = None):
    """SQL (a subquery): every credit row with what is left of it after the customer's debits
    took the oldest-expiring credits first. Columns: id, customer_id, expires_at, created_at,
    amount, remaining. The one FIFO rule: expiry and "expiring soon" both read it."""
    credit = sa.and_(PointsTransaction.amount > 0, PointsTransaction.expires_at.is_not(None))
    scope = []
    if customer_ids is not None:
        scope = [PointsTransaction.customer_id.in_(list(customer_ids))]
    credits = (
        sa.select(
            PointsTransaction.id,
            PointsTransaction.customer_id,
            PointsTransaction.expires_at,
            PointsTransaction.created_at,
            PointsTransaction.amount,
            sa.func.sum(PointsTransaction.amount)
            .over(
                partition_by=PointsTransaction.customer_id,
                order_by=(
                    PointsTransaction.expires_at,
                    PointsTransaction.created_at,
                    PointsTransaction.id,
                ),
            )
            .label("running"),
        )
        .where(credit, *scope)
        .subquery("credits")
    )
    debits = (
        sa.select(
            PointsTransaction.customer_id,
            (-sa.func.sum(PointsTransaction.amount)).label("debited"),
        )
        .where(PointsTransaction.amount < 0, *scope)
        .group_by(PointsTransaction.customer_id)
        .subquery("debits")
    )
    debited = sa.func.coalesce(debits.c.debited, 0)
    remaining = sa.func.greatest(0, sa.func.least(credits.c.amount, credits.c.running - debited))
    return (
        sa.select(
            credits.c.id,
            credits.c.customer_id,
            credits.c.expires_at,
            credits.c.created_at,
            credits.c.amount,
            remaining.label("remaining"),
        )
        .select_from(credits.outerjoin(debits, debits.c.customer_id == credits.c.customer_id))
        .subquery("remaining_credits")
    )


def expire_due(
    now: datetime | None = None, batch_size: int = EXPIRY_BATCH, *, after_batch=None
) -> int:
    """Write an ``expired`` row for each customer whose credits have passed ``expires_at`` with
    points left (oldest first, after their debits); return how many rows.

    Per batch of customers: one statement locks their balances, one reads what is left of their
    expired credits (after the lock, so it sees every committed debit), one inserts the rows.
    Idempotent: expired points are debits, so nothing of those credits is left the second time.
    ``after_batch`` (the job's commit) runs after each batch, so its locks are short.
    """
    now = now or utcnow()
    left = remaining_credits()
    customers = db.session.scalars(
        sa.select(left.c.customer_id)
        .where(left.c.expires_at <= now, left.c.remaining > 0)
        .distinct()
        .order_by(left.c.customer_id)
    ).all()
    written = 0
    for start in range(0, len(customers), batch_size):
        batch = customers[start : start + batch_size]
        balances = _lock_balances(batch)
        left = remaining_credits(batch)
        due = db.session.execute(
            sa.select(left.c.customer_id, sa.func.sum(left.c.remaining))
            .where(left.c.expires_at <= now, left.c.remaining > 0)
            .group_by(left.c.customer_id)
        ).all()
        rows = [
            _row(
                balances[customer_id],
                "expired",
                -min(points, balances[customer_id].current_balance),
                f"Points older than {current_app.config['POINTS_EXPIRY_MONTHS']} months expired",
                now,
            )
            for customer_id, points in due
            if min(points, balances[customer_id].current_balance) > 0
        ]
        _write(rows)
        written += len(rows)
        if after_batch is not None:
            after_batch()
    return written


# --- what the pages read -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expiring:
    on: date
    points: int


@dataclass(frozen=True)
class Summary:
    balance: int
    value: Decimal
    tier: str
    tier_progress: int
    next_tier_threshold: int | None
    next_tier: str | None
    lifetime_earned: int
    lifetime_redeemed: int
    pending: int
    held: int
    expiring_soon: int
    expiring: list[Expiring]


def balance_row(customer_id: uuid.UUID) -> PointsBalance | None:
    return db.session.scalar(
        sa.select(PointsBalance).where(PointsBalance.customer_id == customer_id)
    )


def pending_points(customer_id: uuid.UUID) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsPendingEarn.points), 0)).where(
            PointsPendingEarn.customer_id == customer_id
        )
    )


def pending_earns(customer_id: uuid.UUID) -> list[PointsPendingEarn]:
    return list(
        db.session.scalars(
            sa.select(PointsPendingEarn)
            .where(PointsPendingEarn.customer_id == customer_id)
            .order_by(PointsPendingEarn.available_at)
        )
    )


def expiring_soon(
    customer_id: uuid.UUID, now: datetime | None = None, days: int = 30
) -> list[Expiring]:
    """Points left (after debits, oldest first) that expire within ``days``, by date."""
    now = now or utcnow()
    left = remaining_credits([customer_id])
    on = sa.cast(left.c.expires_at, sa.Date)
    rows = db.session.execute(
        sa.select(on, sa.func.sum(left.c.remaining))
        .where(
            left.c.remaining > 0,
            left.c.expires_at > now,
            left.c.expires_at <= now + timedelta(days=days),
        )
        .group_by(on)
        .order_by(on)
    ).all()
    return [Expiring(day, int(points)) for day, points in rows]


def summary(customer_id: uuid.UUID, now: datetime | None = None) -> Summary:
    """Everything the customer's points page shows above the history."""
    now = now or utcnow()
    balance = balance_row(customer_id)
    lifetime = balance.lifetime_earned if balance else 0
    standing = rules.tier_standing(lifetime)
    following = None
    if standing.next_threshold is not None:
        thresholds = current_app.config["POINTS_TIER_THRESHOLDS"]
        following = next(t for t, at in thresholds.items() if at == standing.next_threshold)
    current = balance.current_balance if balance else 0
    expiring = expiring_soon(customer_id, now)
    return Summary(
        balance=current,
        value=rules.points_value(current),
        tier=standing.tier,
        tier_progress=standing.progress,
        next_tier_threshold=standing.next_threshold,
        next_tier=following,
        lifetime_earned=lifetime,
        lifetime_redeemed=balance.lifetime_redeemed if balance else 0,
        pending=pending_points(customer_id),
        held=held_points(customer_id),
        expiring_soon=sum(item.points for item in expiring),
        expiring=expiring,
    )


def history(
    customer_id: uuid.UUID,
    before: PointsTransaction | tuple[datetime, uuid.UUID] | datetime | None = None,
    limit: int = 20,
) -> list[PointsTransaction]:
    """Ledger rows newest first, ``limit`` at a time ("load more").

    ``before`` is where the last page ended: its last row, or that row's ``history_cursor``
    (``created_at`` and ``id``: rows of one instant, a night's settlement, are not skipped), or a
    bare moment (rows strictly older).
    """
    query = sa.select(PointsTransaction).where(PointsTransaction.customer_id == customer_id)
    if isinstance(before, PointsTransaction):
        before = history_cursor(before)
    if isinstance(before, tuple):
        query = query.where(
            sa.tuple_(PointsTransaction.created_at, PointsTransaction.id)
            < sa.tuple_(sa.literal(before[0], UTCDateTime()), sa.literal(before[1], sa.Uuid()))
        )
    elif before is not None:
        query = query.where(PointsTransaction.created_at < before)
    newest_first = (PointsTransaction.created_at.desc(), PointsTransaction.id.desc())
    return list(db.session.scalars(query.order_by(*newest_first).limit(limit)))


def history_cursor(row: PointsTransaction) -> tuple[datetime, uuid.UUID]:
    """Where a page of history ending with ``row`` goes on from."""
    return row.created_at, row.id


def shortfalls(customer_id: uuid.UUID) -> list[PointsClawbackShortfall]:
    return list(
        db.session.scalars(
            sa.select(PointsClawbackShortfall)
            .where(PointsClawbackShortfall.customer_id == customer_id)
            .order_by(PointsClawbackShortfall.created_at.desc())
        )
    )


@dataclass(frozen=True)
class LiabilityMonth:
    month: date  # the first day of the month the points expire in
    points: int
    value: Decimal


@dataclass(frozen=True)
class Liability:
    points: int
    value: Decimal
    by_month: list[LiabilityMonth]


def liability(now: datetime | None = None) -> Liability:
    """The marketplace's outstanding spendable points in dollars: total and by month of expiry.

    Points past their expiry the nightly job has not written off yet count in their month.
    """
    left = remaining_credits()
    month = sa.cast(sa.func.date_trunc("month", left.c.expires_at), sa.Date)
    rows = db.session.execute(
        sa.select(month, sa.func.sum(left.c.remaining))
        .where(left.c.remaining > 0)
        .group_by(month)
        .order_by(month)
    ).all()
    months = [LiabilityMonth(m, int(p), rules.points_value(int(p))) for m, p in rows]
    total = sum(item.points for item in months)
    return Liability(total, rules.points_value(total), months)
