"""Orders older than ``ORDER_RETENTION_MONTHS`` move to ``archived_orders``, a whole month at a
time: never row-by-row deletes of a live month.

A partition of ``orders`` cannot be detached while rows reference it, so for each month past the
window, oldest first:

1. in one transaction, the rows that reference the month's orders are dealt with by
   :data:`RULES`, leaves first: most are archived whole into ``archived_order_rows`` and deleted
   (line items, events, refunds, holds, disputes, external references, shop numbers, tips,
   platform fees, pending earns, referral links, deliveries with their history, offers and
   ratings); the ledgers keep their rows and lose only the reference (points transactions, holds
   and shortfalls lose the order, driver earnings the delivery), so they still sum; then the
   orders are copied into ``archived_orders`` with an explicit column list. Every insert is
   ``ON CONFLICT DO NOTHING``, so a run repeated over a month copies nothing twice;
2. the copy is checked (the month's order count and money sums against the archive's);
3. the partition, every row of it now in the archive, is emptied in batches (so the detach has
   no foreign key left to check under its lock), then detached and dropped (``retiring.py``).

A month some of whose orders still have commission records is kept and reported: commission
retention (a year) must have aggregated them first, and one still owed keeps its order with it.
A month whose rows sit in ``orders_default`` (written before its partition existed) is never
archived from there; the operations page shows such rows highlighted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..orders.models import Order
from ..periods import Period
from .batches import delete_in_batches
from .models import ArchivedOrder
from .retiring import (
    MonthPartition,
    attached_months,
    detach,
    detached_leftovers,
    drop_detached,
    first_kept_month,
)
from .runs import Run

log = logging.getLogger(__name__)

TABLE = "orders"


class ArchiveError(RuntimeError):
    """The archive found something it has no rule for, or a copy that does not add up."""


@dataclass(frozen=True)
class Rule:
    """What happens to the rows of ``table`` that reference a month's orders.

    ``via`` names the table (itself in :data:`RULES`) whose ``id`` the rows reference through
    ``column``; without it the rows reference the order directly (``order_id``). ``unlink`` sets
    ``column`` (and ``order_created_at``, for an order reference) to NULL; ``archive`` copies the
    row into ``archived_order_rows`` and deletes it.
    """

    table: str
    action: Literal["archive", "unlink"]
    via: str | None = None
    column: str = "order_id"


DELIVERY = "delivery_assignments"

#: Leaves first: a row is dealt with before the row it references.
RULES: tuple[Rule, ...] = (
    Rule("provider_events", "archive", via=DELIVERY, column="assignment_id"),
    Rule("provider_deliveries", "archive", via=DELIVERY, column="assignment_id"),
    Rule("delivery_ratings", "archive", via=DELIVERY, column="assignment_id"),
    Rule("delivery_status_history", "archive", via=DELIVERY, column="assignment_id"),
    Rule("delivery_offers", "archive", via=DELIVERY, column="assignment_id"),
    Rule("driver_earnings", "unlink", via=DELIVERY, column="delivery_id"),
    Rule(DELIVERY, "archive"),
    Rule("vendor_platform_fees", "archive"),  # before order_refunds, which its refund_id names
    # A Stripe refund's share on an order names the order's refund row too: before order_refunds.
    Rule("checkout_payment_refunds", "archive"),
    Rule("order_items", "archive"),
    Rule("order_events", "archive"),
    Rule("order_refunds", "archive"),
    Rule("order_holds", "archive"),
    Rule("order_disputes", "archive"),
    Rule("order_external_refs", "archive"),
    Rule("vendor_order_numbers", "archive"),
    Rule("order_driver_tips", "archive"),
    Rule("points_pending_earns", "archive"),
    Rule("referral_orders", "archive"),
    Rule("points_transactions", "unlink"),
    Rule("points_holds", "unlink"),
    Rule("points_clawback_shortfalls", "unlink"),
)

#: Rows that hold the month back instead of being archived with it.
BLOCKING_TABLE = "commission_records"


@dataclass
class MonthReport:
    partition: str
    month: str
    orders: int = 0
    total: Decimal = Decimal("0.00")
    rows: dict[str, int] = field(default_factory=dict)  # per referencing table
    seconds: dict[str, float] = field(default_factory=dict)  # per step
    kept_because: str | None = None
    detach_ms: float | None = None
    finished_leftover: bool = False

    def line(self) -> str:
        if self.kept_because:
            return f"{self.partition}: kept ({self.kept_because})"
        if self.finished_leftover:
            return f"{self.partition}: dropped the table a killed run had detached"
        moved = ", ".join(f"{table} {count}" for table, count in self.rows.items() if count)
        timing = f"; detach held the lock {self.detach_ms:.1f} ms" if self.detach_ms else ""
        return (
            f"{self.partition}: {self.orders} orders ({self.total} total)"
            f"{'; ' + moved if moved else ''}{timing}"
        )


# --- the schema check -----------------------------------------------------------------------


def referencing_tables(table: str) -> set[str]:
    """Tables with a foreign key to ``table`` (partitions' inherited keys counted once)."""
    return set(
        db.session.scalars(
            sa.text(
                "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
                "WHERE contype = 'f' AND conparentid = 0 AND confrelid = CAST(:t AS regclass)"
            ),
            {"t": table},
        )
    )


def check_rules() -> None:
    """Refuse to run when a table references an order (or an archived row) without a rule: a new
    table must say what happens to its rows before any month is archived."""
    ruled = {rule.table for rule in RULES} | {BLOCKING_TABLE}
    archived = {TABLE} | {rule.table for rule in RULES if rule.action == "archive"}
    missing = {
        f"{child} -> {parent}"
        for parent in archived
        for child in referencing_tables(parent) - ruled
    }
    for rule in RULES:  # a rule reaching through a table must come before that table's own
        if rule.via and [r.table for r in RULES].index(rule.via) < RULES.index(rule):
            missing.add(f"{rule.table} is ordered after {rule.via}")
    if missing:
        raise ArchiveError(
            "No archive rule for: " + ", ".join(sorted(missing)) + " (portal/operations/"
            "order_archive.py RULES)"
        )


# --- SQL built from a rule ------------------------------------------------------------------


def _primary_key(table: str) -> list[str]:
    return db.session.scalars(
        sa.text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary ORDER BY a.attnum"
        ),
        {"t": table},
    ).all()


def _joins(rule: Rule, partition: str) -> tuple[str, str]:
    """The FROM list joining the rule's rows to the month's orders (``o``), and the condition."""
    if rule.via:
        return (
            f'"{rule.table}" t, "{rule.via}" p, "{partition}" o',
            f't."{rule.column}" = p.id AND p.order_id = o.id',
        )
    return f'"{rule.table}" t, "{partition}" o', f't."{rule.column}" = o.id'


def _count(rule: Rule, partition: str) -> int:
    tables, condition = _joins(rule, partition)
    return db.session.scalar(sa.text(f"SELECT count(*) FROM {tables} WHERE {condition}"))


def _apply(rule: Rule, partition: str) -> int:
    tables, condition = _joins(rule, partition)
    _, others = tables.split(", ", 1)
    if rule.action == "unlink":
        cleared = [rule.column] + (["order_created_at"] if rule.column == "order_id" else [])
        sets = ", ".join(f'"{column}" = NULL' for column in cleared)
        return db.session.execute(
            sa.text(f'UPDATE "{rule.table}" t SET {sets} FROM {others} WHERE {condition}')
        ).rowcount
    key = " || '|' || ".join(f't."{column}"::text' for column in _primary_key(rule.table))
    db.session.execute(
        sa.text(
            "INSERT INTO archived_order_rows "
            "(source_table, row_key, order_id, order_created_at, row_data) "
            f"SELECT :source, {key}, o.id, o.created_at, to_jsonb(t) FROM {tables} "
            f"WHERE {condition} ON CONFLICT (source_table, row_key) DO NOTHING"
        ),
        {"source": rule.table},
    )
    return db.session.execute(
        sa.text(f'DELETE FROM "{rule.table}" t USING {others} WHERE {condition}')
    ).rowcount


def order_columns() -> list[str]:
    """The columns ``orders`` and ``archived_orders`` share, named: never copied by position."""
    archived = {column.name for column in ArchivedOrder.__table__.columns}
    return [column.name for column in Order.__table__.columns if column.name in archived]


def _copy_orders(partition: str) -> int:
    columns = ", ".join(f'"{name}"' for name in order_columns())
    return db.session.execute(
        sa.text(
            f'INSERT INTO archived_orders ({columns}) SELECT {columns} FROM "{partition}" '
            "ON CONFLICT (id) DO NOTHING"
        )
    ).rowcount


def _sums(source: str, partition: str) -> tuple[int, Decimal, Decimal]:
    """Count, Σ total and Σ refunded_amount of the month's orders as ``source`` holds them."""
    where = f'WHERE id IN (SELECT id FROM "{partition}")' if source != partition else ""
    row = db.session.execute(
        sa.text(
            f"SELECT count(*), coalesce(sum(total), 0), coalesce(sum(refunded_amount), 0) "
            f'FROM "{source}" {where}'
        )
    ).one()
    return row[0], row[1], row[2]


def _blocker(partition: str) -> str | None:
    owed = db.session.scalar(
        sa.text(
            f'SELECT count(*) FROM "{BLOCKING_TABLE}" c, "{partition}" o WHERE c.order_id = o.id'
        )
    )
    if owed:
        return f"{owed} commission records still reference its orders"
    return None


# --- the run --------------------------------------------------------------------------------


def archive_month(partition: MonthPartition, run: Run) -> MonthReport:
    """Archive one month's partition (or say what it would do, on a dry run)."""
    report = MonthReport(partition.name, str(partition.month))
    report.orders, report.total, _ = _sums(partition.name, partition.name)
    report.kept_because = _blocker(partition.name)
    if report.kept_because:
        return report
    if run.dry_run:
        report.rows = {rule.table: _count(rule, partition.name) for rule in RULES}
        return report

    before = _sums(partition.name, partition.name)
    for rule in RULES:
        run.progress(f"{partition.name}: {rule.action} {rule.table}")
        began = time.perf_counter()
        report.rows[rule.table] = _apply(rule, partition.name)
        report.seconds[rule.table] = time.perf_counter() - began
    run.progress(f"{partition.name}: copying orders")
    _copy_orders(partition.name)
    after = _sums("archived_orders", partition.name)
    if after != before:
        db.session.rollback()
        raise ArchiveError(f"{partition.name}: the archive holds {after}, the month {before}")
    db.session.commit()

    _empty_and_detach(partition, run, report)
    return report


def _empty_and_detach(partition: MonthPartition, run: Run, report: MonthReport) -> None:
    """Empty the copied partition in batches, then detach and drop it.

    DETACH checks, under its ACCESS EXCLUSIVE lock, that no row of any referencing table points
    into the partition: a probe per order per foreign key, about 0.6 s for 50,000 orders
    (docs/operations.md). Deleting the already archived rows first, a batch per
    transaction under the ordinary row locks, leaves it nothing to check.
    """
    run.progress(f"{partition.name}: emptying the copied partition")
    began = time.perf_counter()
    batch = current_app.config["ORDER_ARCHIVE_DELETE_BATCH"]
    archived = sa.table("archived_orders", sa.column("id"))
    rows = sa.table(partition.name, sa.column("id"))
    chunk = (
        sa.select(rows.c.id)
        .where(rows.c.id.in_(sa.select(archived.c.id)))
        .limit(batch)
        .scalar_subquery()
    )
    delete_in_batches(sa.delete(rows).where(rows.c.id.in_(chunk)), batch)
    report.seconds["emptying"] = time.perf_counter() - began
    run.progress(f"{partition.name}: detaching")
    report.detach_ms = detach(TABLE, partition.name)
    drop_detached(partition.name)


def finish_leftover(partition: MonthPartition, run: Run) -> MonthReport:
    """A month a killed run detached but did not drop: copy whatever it missed, then drop it."""
    report = MonthReport(partition.name, str(partition.month), finished_leftover=True)
    if run.dry_run:
        return report
    _copy_orders(partition.name)
    db.session.commit()
    drop_detached(partition.name)
    return report


def archive_old_orders(run: Run, *, before: Period | None = None) -> list[MonthReport]:
    """Archive every month of orders before ``before`` (default: the retention window's start)."""
    check_rules()
    before = before or first_kept_month(current_app.config["ORDER_RETENTION_MONTHS"])
    reports = [finish_leftover(leftover, run) for leftover in detached_leftovers(TABLE)]
    for partition in attached_months(TABLE, before):
        reports.append(archive_month(partition, run))
    return reports
