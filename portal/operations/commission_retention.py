"""Commission records older than ``COMMISSION_RETENTION_MONTHS`` are aggregated into
``commission_summaries`` (shop, year, month: total commission, order count) and their monthly
partition is dropped.

A partition is dropped only when nothing in it is still owed: every record is ``paid`` (marked
by its payout), or belongs to an order whose unpaid records (sale and reversals) net to zero in
both order amount and commission. An order whose unpaid records span two months holds both
months back until both can go together, so a sale never leaves its reversal behind on its own.
A month kept for a record still owed (a held shop, a dispute, a reversal not yet deducted) is
reported with its reasons on the operations page, and tried again on every run.

In one transaction per month: the summaries are added (``ON CONFLICT ... DO UPDATE`` adding, as
``portal/tiers/volumes.py`` does), each payout's share of the month goes into
``aggregated_commission_payouts`` (so a payout page still accounts for every record it paid),
and the partition is detached last; the detached table is dropped after the commit
(``retiring.py``). ``vendor_commission_totals`` is left as it is: it counts every record ever
written, and dropping a partition fires no row trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..periods import Period
from .models import AggregatedCommissionPayout
from .retiring import (
    MonthPartition,
    attached_months,
    detach,
    detached_leftovers,
    drop_detached,
    first_kept_month,
)
from .runs import Run

TABLE = "commission_records"


@dataclass
class CommissionMonth:
    partition: str
    month: str
    records: int
    total: Decimal
    owed_records: int = 0  # records keeping the month (0 when it may go)
    owed_amount: Decimal = Decimal("0.00")
    held_back_by: str | None = None  # another month an order's records span
    detach_ms: float | None = None
    dropped: bool = False

    @property
    def kept(self) -> bool:
        return bool(self.owed_records or self.held_back_by)

    def line(self) -> str:
        if self.owed_records:
            return (
                f"{self.partition}: kept, {self.owed_records} records still owed "
                f"({self.owed_amount} commission)"
            )
        if self.held_back_by:
            return f"{self.partition}: kept with {self.held_back_by} (an order spans both)"
        timing = f"; detach held the lock {self.detach_ms:.1f} ms" if self.detach_ms else ""
        verb = "aggregated and dropped" if self.dropped else "would be aggregated and dropped"
        return f"{self.partition}: {self.records} records ({self.total}) {verb}{timing}"


def _month_totals(partition: str) -> tuple[int, Decimal]:
    row = db.session.execute(
        sa.text(f'SELECT count(*), coalesce(sum(commission_amount), 0) FROM "{partition}"')
    ).one()
    return row[0], row[1]


def assess(partitions: list[MonthPartition], boundary: Period) -> list[CommissionMonth]:
    """Which of ``partitions`` (all before ``boundary``) may be dropped, and why the others not."""
    months = {
        p.name: CommissionMonth(p.name, str(p.month), *_month_totals(p.name)) for p in partitions
    }
    by_month = {str(p.month): p.name for p in partitions}
    # Per order with an unpaid record in these months: do its unpaid records (in any month) net
    # to zero, all within these months? And which months hold them.
    rows = db.session.execute(
        sa.text(
            """
            SELECT order_id,
                   sum(order_amount) = 0 AND sum(commission_amount) = 0
                       AND bool_and(created_at < :boundary) AS nets_to_zero,
                   array_agg(DISTINCT to_char(created_at, 'YYYY-MM')) AS months,
                   count(*) AS records, sum(commission_amount) AS amount
            FROM commission_records
            WHERE status <> 'paid'
              AND order_id IN (SELECT order_id FROM commission_records
                               WHERE status <> 'paid' AND created_at < :boundary)
            GROUP BY order_id
            """
        ),
        {"boundary": boundary.start},
    ).all()
    linked: list[set[str]] = []
    for row in rows:
        names = {by_month[m] for m in row.months if m in by_month}
        if not row.nets_to_zero:
            for name in names:  # the amounts per month are told by the month's own records
                months[name].owed_records += 1
        else:
            linked.append(names)
    _count_owed(months, boundary)
    changed = True
    while changed:  # months an order links fall together: one kept keeps the others
        changed = False
        for names in linked:
            kept = [name for name in names if months[name].kept]
            for name in names - set(kept):
                if kept:
                    months[name].held_back_by = months[kept[0]].month
                    changed = True
    return [months[p.name] for p in partitions]


def _count_owed(months: dict[str, CommissionMonth], boundary: Period) -> None:
    """Replace the per-order tallies with the owed records' own count and commission per month."""
    for month in months.values():
        if not month.owed_records:
            continue
        row = db.session.execute(
            sa.text(
                f"""
                SELECT count(*), coalesce(sum(c.commission_amount), 0) FROM "{month.partition}" c
                WHERE c.status <> 'paid' AND c.order_id IN (
                    SELECT order_id FROM commission_records WHERE status <> 'paid'
                    GROUP BY order_id
                    HAVING NOT (sum(order_amount) = 0 AND sum(commission_amount) = 0
                                AND bool_and(created_at < :boundary)))
                """
            ),
            {"boundary": boundary.start},
        ).one()
        month.owed_records, month.owed_amount = row[0], row[1]


def _aggregate(partition: MonthPartition) -> None:
    params = {"year": partition.month.year, "month": partition.month.month}
    db.session.execute(
        sa.text(
            f"""
            INSERT INTO commission_summaries AS s (shop_id, year, month, total_amount, order_count)
            SELECT shop_id, :year, :month, sum(commission_amount),
                   count(DISTINCT order_id) FILTER (WHERE refund_id IS NULL)
            FROM "{partition.name}" GROUP BY shop_id
            ON CONFLICT (shop_id, year, month) DO UPDATE
            SET total_amount = s.total_amount + EXCLUDED.total_amount,
                order_count = s.order_count + EXCLUDED.order_count
            """
        ),
        params,
    )
    db.session.execute(
        sa.text(
            f"""
            INSERT INTO aggregated_commission_payouts AS a
                (payout_id, shop_id, year, month, record_count, total_amount)
            SELECT payout_id, shop_id, :year, :month, count(*), sum(commission_amount)
            FROM "{partition.name}" WHERE payout_id IS NOT NULL GROUP BY payout_id, shop_id
            ON CONFLICT (payout_id, shop_id, year, month) DO UPDATE
            SET record_count = a.record_count + EXCLUDED.record_count,
                total_amount = a.total_amount + EXCLUDED.total_amount
            """
        ),
        params,
    )


def aggregate_old_commissions(run: Run, *, before: Period | None = None) -> list[CommissionMonth]:
    """Aggregate and drop every commission month before ``before`` that owes nothing."""
    before = before or first_kept_month(current_app.config["COMMISSION_RETENTION_MONTHS"])
    for leftover in detached_leftovers(TABLE):  # summarised in the detach's own transaction
        if not run.dry_run:
            drop_detached(leftover.name)
    partitions = attached_months(TABLE, before)
    months = assess(partitions, before)
    db.session.commit()
    for partition, month in zip(partitions, months, strict=True):
        if month.kept or run.dry_run:
            continue
        run.progress(f"{partition.name}: aggregating {month.records} records")
        _aggregate(partition)
        month.detach_ms = detach(TABLE, partition.name)
        drop_detached(partition.name)
        month.dropped = True
    return months


def kept_commission_months() -> list[CommissionMonth]:
    """The months past the window that are kept because something in them is still owed."""
    before = first_kept_month(current_app.config["COMMISSION_RETENTION_MONTHS"])
    return [m for m in assess(attached_months(TABLE, before), before) if m.kept]


def aggregated_payout_records(payout_id) -> list[AggregatedCommissionPayout]:
    """A payout's records that were aggregated away, per shop and month (the payout page)."""
    return db.session.scalars(
        sa.select(AggregatedCommissionPayout)
        .where(AggregatedCommissionPayout.payout_id == payout_id)
        .order_by(AggregatedCommissionPayout.year, AggregatedCommissionPayout.month)
    ).all()
