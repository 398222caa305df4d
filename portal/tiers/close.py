"""The month-end close: rebuild a finished month's volumes from its orders and set the shops' tiers.

Set-based: a handful of statements over the whole month, whatever the number of vendors, reading
orders bounded on ``created_at`` so only that month's partition is scanned.

Transactions. Every data change of a close happens in the caller's one transaction, inside a
savepoint: either all of it is kept or none. Progress is different: a page watches the
``month_closes`` row while the close runs, which it can only see if it is committed. So the
``progress`` callback (:class:`CommittedProgress` for the job and the CLI) writes that row in short
transactions of its own, and the close itself writes the row only once, at the end (its result, or
its failure after the data was rolled back). The two never hold the row at the same time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..admin import audit
from ..clock import utcnow
from ..extensions import db
from ..failures import failure_message
from ..orders.models import Order
from ..periods import Period, PeriodError
from ..vendors.models import Vendor
from .models import MonthClose, ShopTier, TierChange, VendorMonthlyVolume
from .promotions import expire_promotions
from .rules import earned_tier_rule, fee_tier_sql, tier_rank_sql, tier_rate_sql
from .volumes import average_order_value_sql, monthly_sales_sql

orders = Order.__table__
vendors = Vendor.__table__
volumes = VendorMonthlyVolume.__table__
shop_tiers = ShopTier.__table__
tier_changes = TierChange.__table__

#: Serialises closes (job, CLI): two at once would only wait on each other's rows. Arbitrary.
CLOSE_LOCK_KEY = 7_261_120_002

#: ``progress(percent, step)``: told where the close is, between its statements.
Progress = Callable[[int, str], None]

ACTIVE_STATUSES = ("queued", "running")


class MonthCloseError(ValueError):
    """A close that cannot be run or requested (the message says why)."""


class MonthNotFinishedError(MonthCloseError):
    pass


class MonthCloseBusyError(MonthCloseError):
    pass


def finished_period(year: int, month: int, now: datetime) -> Period:
    """The month, if it has ended by ``now``; :class:`MonthCloseError` otherwise."""
    try:
        period = Period(year, month)
    except PeriodError:
        raise MonthCloseError(f"{year}-{month:02d} is not a month.") from None
    if period.end > now:
        raise MonthNotFinishedError(
            f"{period} has not finished yet: it can be closed from "
            f"{period.end:%Y-%m-%d} 00:00 UTC on."
        )
    return period


def month_close_job_id(year: int, month: int) -> str:
    """The RQ job id of a month's close: one close of a month can be queued at a time."""
    return f"month-close-{Period(year, month)}"


# --- requesting a close (the admin page) ---------------------------------------------------------


def request_month_close(
    year: int, month: int, requested_by=None, *, now: datetime | None = None
) -> MonthClose:
    """Queue a close of a finished month: create or reset its ``month_closes`` row to ``queued``.

    Refused (:class:`MonthCloseBusyError`) while a close of that month is queued or running. The
    caller commits, then enqueues the job (``tiers.jobs.enqueue_month_close``). Flushes only.
    """
    period = finished_period(year, month, now or utcnow())
    months = MonthClose.__table__
    inserted = db.session.execute(
        pg_insert(months)
        .values(year=year, month=month, status="queued")
        .on_conflict_do_nothing(index_elements=["year", "month"])
        .returning(months.c.id)
    ).scalar_one_or_none()
    close = _locked_close_row(year, month)
    if (
        inserted is None
        and close.status in ACTIVE_STATUSES
        and not _abandoned(close, now or utcnow())
    ):
        raise MonthCloseBusyError(
            f"The close of {period} is already {close.status}; wait for it to finish."
        )
    close.status = "queued"
    close.progress = 0
    close.step = "Waiting for a worker"
    close.error = None
    close.summary = None
    close.started_at = close.finished_at = None
    close.job_id = month_close_job_id(year, month)
    close.requested_by_id = getattr(requested_by, "id", requested_by)
    db.session.flush()
    audit.record(
        "month_close.started",
        "month_close",
        close.id,
        actor=requested_by if hasattr(requested_by, "id") else None,
        label=period.label,
    )
    return close


def _abandoned(close: MonthClose, now: datetime) -> bool:
    """A close still "running" long after any job could (its worker died) may be queued again."""
    stale_after = timedelta(minutes=current_app.config["MONTH_CLOSE_STALE_MINUTES"])
    return (
        close.status == "running"
        and close.started_at is not None
        and close.started_at < now - stale_after
    )


def recent_closes(limit: int = 12) -> list[MonthClose]:
    """The latest months' closes, newest month first, for the admin's history."""
    return list(
        db.session.scalars(
            sa.select(MonthClose)
            .order_by(MonthClose.year.desc(), MonthClose.month.desc())
            .limit(limit)
        )
    )


def _locked_close_row(year: int, month: int) -> MonthClose:
    return db.session.scalars(
        sa.select(MonthClose)
        .where(MonthClose.year == year, MonthClose.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


# --- running a close -----------------------------------------------------------------------------


def run_month_close(
    year: int, month: int, *, now: datetime | None = None, progress: Progress | None = None
) -> MonthClose:
    """Close a finished month and return its ``month_closes`` row (status ``done``).

    1. Rebuild the month's ``vendor_monthly_volumes`` from its paid orders (the volume rule);
       rows of vendors left without sales are reset, unchanged rows are not rewritten.
    2. If it is the latest finished month, set each shop's earned tier for the month now running
       from the closed month's sales, and its tier and rate unless a promotion is running.
    3. End promotions that are over (:func:`~portal.tiers.promotions.expire_promotions`).
    4. Set ``shop_tiers.monthly_sales`` to the running month's sales.
    Each tier change is a ``tier_changes`` row. Running it again changes nothing but the
    bookkeeping (``runs``, times, summary).

    All data changes are one savepoint in the caller's transaction. On an error they are rolled
    back, the row is marked ``failed`` with the error (flushed) and the error re-raised: commit to
    keep the failure on record. Raises :class:`MonthCloseError` (nothing written) for a month that
    has not finished. Flushes, never commits.
    """
    now = now or utcnow()
    period = finished_period(year, month, now)
    report = progress or (lambda percent, step: None)
    started_at, clock = utcnow(), time.monotonic()
    report(0, "Starting")
    try:
        with db.session.begin_nested():
            summary = _close(period, now, report)
    except Exception as error:
        _record_result(
            period,
            status="failed",
            started_at=started_at,
            error=failure_message(error, f"month close {year:04d}-{month:02d}"),
        )
        raise
    summary["duration_ms"] = round((time.monotonic() - clock) * 1000)
    return _record_result(period, status="done", started_at=started_at, summary=summary)


def _close(period: Period, now: datetime, report: Progress) -> dict:
    db.session.flush()
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(CLOSE_LOCK_KEY)))

    report(10, "Rebuilding the month's volumes")
    volumes_rebuilt = rebuild_month_volumes(period)
    vendors_with_volume = db.session.scalar(
        sa.select(sa.func.count()).where(_month_rows(period), volumes.c.total_sales > 0)
    )

    # The tiers in force come from the latest finished month; re-closing an older month only
    # corrects its volumes.
    tiers_applied = period.next() == Period.containing(now)
    upgrades = downgrades = 0
    if tiers_applied:
        report(50, "Setting earned tiers")
        upgrades, downgrades = apply_earned_tiers(period, now)

    report(70, "Ending promotions that are over")
    promotions_expired = expire_promotions(now)

    report(85, "Updating this month's sales")
    update_monthly_sales(Period.containing(now), now)
    db.session.expire_all()  # shop tiers and volumes changed behind the ORM's back

    return {
        "vendors_with_volume": vendors_with_volume,
        "volumes_rebuilt": volumes_rebuilt,
        "tiers_applied": tiers_applied,
        "upgrades": upgrades,
        "downgrades": downgrades,
        "promotions_expired": promotions_expired,
    }


def _month_rows(period: Period) -> sa.ColumnElement[bool]:
    return sa.and_(volumes.c.year == period.year, volumes.c.month == period.month)


def rebuild_month_volumes(period: Period) -> int:
    """Make the month's volume rows exactly what its orders say; return how many rows were written.

    Rows already right are left alone, so a second run writes nothing. Flushes, never commits.
    """
    # Wait for incremental updates already holding the month's rows (a late refund, say) and
    # keep new ones out until commit: the totals below then include every committed order, and
    # a later increment lands on top of them instead of being overwritten.
    db.session.execute(sa.select(sa.literal(1)).where(_month_rows(period)).with_for_update())

    # The volume rule (tiers/volumes.py), over the month's paid orders.
    merchandise_left = orders.c.refunded_subtotal < orders.c.subtotal
    sales = (
        sa.select(
            orders.c.vendor_id,
            sa.func.sum(orders.c.subtotal - orders.c.refunded_subtotal).label("total_sales"),
            sa.func.count().filter(merchandise_left).label("total_orders"),
        )
        .where(
            orders.c.created_at >= period.start,
            orders.c.created_at < period.end,
            orders.c.paid_at.is_not(None),
        )
        .group_by(orders.c.vendor_id)
        .cte("sales")
    )
    # A row whose sales went away (refunded, say) is reset, never left stale.
    gone = sa.select(
        volumes.c.vendor_id,
        sa.cast(sa.literal(0), volumes.c.total_sales.type),
        sa.cast(sa.literal(0), sa.BigInteger),
    ).where(_month_rows(period), ~sa.exists().where(sales.c.vendor_id == volumes.c.vendor_id))
    rebuilt = sa.union_all(sa.select(sales), gone).subquery("rebuilt")

    rows = sa.select(
        rebuilt.c.vendor_id,
        sa.literal(period.year, sa.Integer),
        sa.literal(period.month, sa.Integer),
        rebuilt.c.total_sales,
        rebuilt.c.total_orders,
        average_order_value_sql(rebuilt.c.total_sales, rebuilt.c.total_orders),
        fee_tier_sql(vendors.c.vendor_type, rebuilt.c.total_sales),
    ).join_from(rebuilt, vendors, vendors.c.id == rebuilt.c.vendor_id)
    columns = ("total_sales", "total_orders", "average_order_value", "fee_tier")
    insert = pg_insert(volumes).from_select(["vendor_id", "year", "month", *columns], rows)
    upsert = insert.on_conflict_do_update(
        index_elements=["vendor_id", "year", "month"],
        set_={name: insert.excluded[name] for name in columns},
        where=sa.or_(
            *(volumes.c[name].is_distinct_from(insert.excluded[name]) for name in columns)
        ),
    )
    # SQLAlchemy keeps an INSERT's rowcount only when asked to.
    return db.session.execute(upsert.execution_options(preserve_rowcount=True)).rowcount


def apply_earned_tiers(closed: Period, now: datetime) -> tuple[int, int]:
    """Set every shop's earned tier from the closed month's sales; return (upgrades, downgrades).

    A shop without a promotion also gets the earned tier and its rate; a promotional shop keeps
    its tier until the promotion ends. A shop without a volume row earned the base tier. Every
    change of tier or rate of a non-promotional shop is a ``month_close`` history row.
    """
    closed_sales = sa.func.coalesce(volumes.c.total_sales, 0)
    earned = (
        sa.select(
            shop_tiers.c.id,
            shop_tiers.c.tier.label("previous_tier"),
            earned_tier_rule().sql(closed_sales).label("earned_tier"),
        )
        .outerjoin(
            volumes, sa.and_(volumes.c.vendor_id == shop_tiers.c.shop_id, _month_rows(closed))
        )
        .cte("earned")
    )
    earned_rate = tier_rate_sql(earned.c.earned_tier)
    promotional = shop_tiers.c.is_promotional
    changed = (
        sa.update(shop_tiers)
        .where(
            shop_tiers.c.id == earned.c.id,
            sa.or_(
                shop_tiers.c.earned_tier != earned.c.earned_tier,
                sa.and_(
                    ~promotional,
                    sa.or_(
                        shop_tiers.c.tier != earned.c.earned_tier,
                        shop_tiers.c.commission_rate != earned_rate,
                    ),
                ),
            ),
        )
        .values(
            earned_tier=earned.c.earned_tier,
            tier=sa.case((promotional, shop_tiers.c.tier), else_=earned.c.earned_tier),
            commission_rate=sa.case((promotional, shop_tiers.c.commission_rate), else_=earned_rate),
            updated_at=now,
        )
        .returning(
            shop_tiers.c.shop_id,
            shop_tiers.c.is_promotional,
            earned.c.previous_tier,
            shop_tiers.c.tier,
            shop_tiers.c.commission_rate,
        )
        .cte("changed")
    )
    logged = (
        sa.insert(tier_changes)
        .from_select(
            [
                "vendor_id",
                "from_tier",
                "to_tier",
                "commission_rate",
                "reason",
                "is_promotional",
                "period_year",
                "period_month",
                "created_at",
            ],
            sa.select(
                changed.c.shop_id,
                changed.c.previous_tier,
                changed.c.tier,
                changed.c.commission_rate,
                sa.literal("month_close"),
                sa.false(),
                sa.literal(closed.year, sa.Integer),
                sa.literal(closed.month, sa.Integer),
                sa.literal(now, tier_changes.c.created_at.type),
            ).where(~changed.c.is_promotional),  # a promotional shop's tier did not move
        )
        .returning(tier_changes.c.from_tier, tier_changes.c.to_tier)
        .cte("logged")
    )
    moved = tier_rank_sql(logged.c.to_tier) - tier_rank_sql(logged.c.from_tier)
    row = db.session.execute(
        sa.select(sa.func.count().filter(moved > 0), sa.func.count().filter(moved < 0))
    ).one()
    return row[0], row[1]


def update_monthly_sales(current: Period, now: datetime) -> int:
    """Set ``shop_tiers.monthly_sales`` to the running month's volume (0 without one)."""
    sales = monthly_sales_sql(current)
    return db.session.execute(
        sa.update(shop_tiers)
        .where(shop_tiers.c.monthly_sales != sales)
        .values(monthly_sales=sales, updated_at=now)
    ).rowcount


def _record_result(
    period: Period,
    *,
    status: str,
    started_at: datetime,
    summary: dict | None = None,
    error: str | None = None,
) -> MonthClose:
    db.session.execute(
        pg_insert(MonthClose.__table__)
        .values(year=period.year, month=period.month, status=status)
        .on_conflict_do_nothing(index_elements=["year", "month"])
    )
    close = _locked_close_row(period.year, period.month)
    close.status = status
    close.runs += 1
    close.started_at = started_at
    close.finished_at = utcnow()
    close.error = error
    if status == "done":
        close.progress, close.step, close.summary = 100, "Done", summary
    else:
        close.step = "Failed"
    db.session.flush()
    return close


# --- progress the page can watch -----------------------------------------------------------------


class CommittedProgress:
    """A ``progress`` callback that commits each step of a close on a connection of its own.

    The page polling the ``month_closes`` row sees ``running`` and the step while the close's
    own transaction is still open. Bound to a single connection instead of an engine (the test
    suite pins the app to one), it writes on that connection, inside its transaction.
    """

    def __init__(self, year: int, month: int, bind: sa.Engine | sa.Connection | None = None):
        self.year, self.month = year, month
        self.bind = bind

    def __call__(self, percent: int, step: str) -> None:
        values: dict = {"status": "running", "progress": percent, "step": step}
        if percent == 0:
            values |= {"started_at": utcnow(), "finished_at": None, "error": None}
        statement = (
            pg_insert(MonthClose.__table__)
            .values(year=self.year, month=self.month, **values)
            .on_conflict_do_update(index_elements=["year", "month"], set_=values)
        )
        bind = self.bind if self.bind is not None else db.engine
        if isinstance(bind, sa.Engine):
            with bind.begin() as connection:
                connection.execute(statement)
        else:
            bind.execute(statement)
