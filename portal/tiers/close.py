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
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..clock import utcnow
from ..extensions import db
from ..failures import failure_message
from .models import MonthClose
from .promotions import expire_promotions
from .rules import (
    earned_tier_case,
    fee_schedule_values,
    fee_tier_sql,
    tier_rank_sql,
    tier_rates_values,
)

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


@dataclass(frozen=True)
class Period:
    """A calendar month as the half-open range of naive UTC timestamps ``[start, end)``."""

    year: int
    month: int

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        return self.following().start

    def following(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        return cls(moment.year, moment.month)


def finished_period(year: int, month: int, now: datetime) -> Period:
    """The month, if it has ended by ``now``; :class:`MonthCloseError` otherwise."""
    if not 1 <= month <= 12 or not 1 <= year <= 9998:
        raise MonthCloseError(f"{year}-{month:02d} is not a month.")
    period = Period(year, month)
    if period.end > now:
        raise MonthNotFinishedError(
            f"{period.label()} has not finished yet: it can be closed from "
            f"{period.end:%Y-%m-%d} 00:00 UTC on."
        )
    return period


def month_close_job_id(year: int, month: int) -> str:
    """The RQ job id of a month's close: one close of a month can be queued at a time."""
    return f"month-close-{year:04d}-{month:02d}"


# --- requesting a close (the admin page) ---------------------------------------------------------


def request_month_close(
    year: int, month: int, requested_by=None, *, now: datetime | None = None
) -> MonthClose:
    """Queue a close of a finished month: create or reset its ``month_closes`` row to ``queued``.

    Refused (:class:`MonthCloseBusyError`) while a close of that month is queued or running. The
    caller commits, then enqueues the job (``tiers.jobs.enqueue_month_close``). Flushes only.
    """
    finished_period(year, month, now or utcnow())
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
            f"The close of {year:04d}-{month:02d} is already {close.status}; wait for it to finish."
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
        sa.text(
            "SELECT count(*) FROM vendor_monthly_volumes "
            "WHERE year = :year AND month = :month AND total_sales > 0"
        ),
        {"year": period.year, "month": period.month},
    )

    # The tiers in force come from the latest finished month; re-closing an older month only
    # corrects its volumes.
    tiers_applied = period.following() == Period.containing(now)
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


def rebuild_month_volumes(period: Period) -> int:
    """Make the month's volume rows exactly what its orders say; return how many rows were written.

    Rows already right are left alone, so a second run writes nothing. Flushes, never commits.
    """
    params = {"year": period.year, "month": period.month, "start": period.start, "end": period.end}
    # Wait for incremental updates already holding the month's rows (a late refund, say) and
    # keep new ones out until commit: the totals below then include every committed order, and
    # a later increment lands on top of them instead of being overwritten.
    db.session.execute(
        sa.text(
            "SELECT 1 FROM vendor_monthly_volumes WHERE year = :year AND month = :month FOR UPDATE"
        ),
        params,
    )
    schedule_sql, schedule_params = fee_schedule_values()
    result = db.session.execute(
        sa.text(
            f"""
            WITH fee_schedule AS (SELECT * FROM {schedule_sql}),
            sales AS (
                SELECT vendor_id,
                       sum(subtotal - refunded_subtotal) AS total_sales,
                       count(*) FILTER (WHERE refunded_subtotal < subtotal) AS total_orders
                FROM orders
                WHERE created_at >= :start AND created_at < :end AND paid_at IS NOT NULL
                GROUP BY vendor_id
            ),
            rebuilt AS (
                SELECT vendor_id, total_sales, total_orders FROM sales
                UNION ALL
                -- a row whose sales went away (refunded, say) is reset, never left stale
                SELECT v.vendor_id, 0, 0 FROM vendor_monthly_volumes v
                WHERE v.year = :year AND v.month = :month
                  AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.vendor_id = v.vendor_id)
            )
            INSERT INTO vendor_monthly_volumes AS volume
                (vendor_id, year, month, total_sales, total_orders, average_order_value, fee_tier)
            SELECT r.vendor_id, :year, :month, r.total_sales, r.total_orders,
                   CASE WHEN r.total_orders > 0 THEN round(r.total_sales / r.total_orders, 2) END,
                   {fee_tier_sql("vendors.vendor_type", "r.total_sales")}
            FROM rebuilt r JOIN vendors ON vendors.id = r.vendor_id
            ON CONFLICT (vendor_id, year, month) DO UPDATE
            SET total_sales = EXCLUDED.total_sales,
                total_orders = EXCLUDED.total_orders,
                average_order_value = EXCLUDED.average_order_value,
                fee_tier = EXCLUDED.fee_tier
            WHERE (volume.total_sales, volume.total_orders, volume.average_order_value,
                   volume.fee_tier)
                  IS DISTINCT FROM (EXCLUDED.total_sales, EXCLUDED.total_orders,
                                    EXCLUDED.average_order_value, EXCLUDED.fee_tier)
            """
        ),
        params | schedule_params,
    )
    return result.rowcount


def apply_earned_tiers(closed: Period, now: datetime) -> tuple[int, int]:
    """Set every shop's earned tier from the closed month's sales; return (upgrades, downgrades).

    A shop without a promotion also gets the earned tier and its rate; a promotional shop keeps
    its tier until the promotion ends. A shop without a volume row earned the base tier. Every
    change of tier or rate of a non-promotional shop is a ``month_close`` history row.
    """
    case_sql, case_params = earned_tier_case("COALESCE(v.total_sales, 0)")
    rates_sql, rates_params = tier_rates_values()
    row = db.session.execute(
        sa.text(
            f"""
            WITH earned AS (
                SELECT st.id, st.tier AS previous_tier, {case_sql} AS earned_tier
                FROM shop_tiers st
                LEFT JOIN vendor_monthly_volumes v
                       ON v.vendor_id = st.shop_id AND v.year = :year AND v.month = :month
            ),
            changed AS (
                UPDATE shop_tiers st
                SET earned_tier = e.earned_tier,
                    tier = CASE WHEN st.is_promotional THEN st.tier ELSE e.earned_tier END,
                    commission_rate = CASE WHEN st.is_promotional THEN st.commission_rate
                                           ELSE tier_rates.rate END,
                    updated_at = :now
                FROM earned e, {rates_sql}
                WHERE st.id = e.id AND tier_rates.tier = e.earned_tier
                  AND (st.earned_tier <> e.earned_tier
                       OR (NOT st.is_promotional
                           AND (st.tier <> e.earned_tier OR st.commission_rate <> tier_rates.rate)))
                RETURNING st.shop_id, st.is_promotional, e.previous_tier, st.tier,
                          st.commission_rate
            ),
            logged AS (
                INSERT INTO tier_changes (vendor_id, from_tier, to_tier, commission_rate, reason,
                                          is_promotional, period_year, period_month, created_at)
                SELECT shop_id, previous_tier, tier, commission_rate, 'month_close', false,
                       :year, :month, :now
                FROM changed
                WHERE NOT is_promotional  -- a promotional shop's tier did not move
                RETURNING from_tier, to_tier
            )
            SELECT
                count(*) FILTER (WHERE {tier_rank_sql("to_tier")} > {tier_rank_sql("from_tier")}),
                count(*) FILTER (WHERE {tier_rank_sql("to_tier")} < {tier_rank_sql("from_tier")})
            FROM logged
            """
        ),
        {"year": closed.year, "month": closed.month, "now": now} | case_params | rates_params,
    ).one()
    return row[0], row[1]


def update_monthly_sales(current: Period, now: datetime) -> int:
    """Set ``shop_tiers.monthly_sales`` to the running month's volume (0 without one)."""
    return db.session.execute(
        sa.text(
            """
            UPDATE shop_tiers st
            SET monthly_sales = COALESCE(v.total_sales, 0), updated_at = :now
            FROM shop_tiers s
            LEFT JOIN vendor_monthly_volumes v
                   ON v.vendor_id = s.shop_id AND v.year = :year AND v.month = :month
            WHERE st.id = s.id AND st.monthly_sales <> COALESCE(v.total_sales, 0)
            """
        ),
        {"year": current.year, "month": current.month, "now": now},
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
