"""The partition manager: keeps a partition ready for every period a row may be written to.

``orders`` and ``commission_records`` are partitioned by month, ``points_transactions`` by year,
all on ``created_at``, each with a DEFAULT partition (``<table>_default``) so a row is never
rejected. The periods themselves (``orders_2026_11``, ``points_transactions_2026``) are made ahead
of time: by ``flask db upgrade`` (migration 2026_12_02_0010), ``flask partitions ensure`` and a
scheduled job, all through one SQL function, ``portal_create_partition``.

A period whose rows already sit in the default partition (written before its partition existed) is
not skipped: the function moves those rows, and every row that references them, into the new
partition in the same transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..extensions import db
from ..periods import Period as MonthPeriod

logger = logging.getLogger(__name__)

Period = Literal["month", "year"]

# Below this many rows (as estimated by the planner) list_partitions counts exactly.
EXACT_COUNT_BELOW = 10_000


@dataclass(frozen=True)
class PartitionedTable:
    name: str
    period: Period

    @property
    def default_partition(self) -> str:
        return f"{self.name}_default"

    def period_start(self, day: date) -> date:
        return day.replace(day=1) if self.period == "month" else day.replace(month=1, day=1)

    def shift(self, start: date, periods: int) -> date:
        """The start of the period ``periods`` after the one starting at ``start``."""
        if self.period == "year":
            return start.replace(year=start.year + periods)
        return MonthPeriod.containing(start).shift(periods).first_day

    def periods(self, first: date, last: date) -> list[date]:
        """Starts of every period from the one holding ``first`` to the one holding ``last``."""
        start, stop = self.period_start(first), self.period_start(last)
        starts = []
        while start <= stop:
            starts.append(start)
            start = self.shift(start, 1)
        return starts


PARTITIONED_TABLES: tuple[PartitionedTable, ...] = (
    PartitionedTable("orders", "month"),
    PartitionedTable("commission_records", "month"),
    PartitionedTable("points_transactions", "year"),
)

_PARTITION_NAME = re.compile(
    r"^(orders|commission_records|points_transactions)_(\d{4}(_\d{2})?|default)$"
)


def is_partition_name(name: str) -> bool:
    """True for the child tables this module manages (Alembic's autogenerate ignores them)."""
    return bool(_PARTITION_NAME.match(name))


@dataclass(frozen=True)
class PartitionInfo:
    table: str
    name: str
    bounds: str  # PostgreSQL's own text, e.g. "FOR VALUES FROM ('2026-11-01 00:00:00') TO (...)"
    rows: int
    rows_exact: bool  # False when ``rows`` is the planner's estimate

    @property
    def is_default(self) -> bool:
        return self.bounds == "DEFAULT"


def utc_today() -> date:
    return clock.today()


@dataclass(frozen=True)
class CreatedPartition:
    name: str
    moved_rows: int  # rows of the parent taken out of the default partition into this one


def planned_periods(
    today: date | None = None, *, since: date | None = None
) -> list[tuple[PartitionedTable, date]]:
    """Each table with the start of every period that must have a partition, in creation order.

    The current period and ``PARTITION_MONTHS_AHEAD`` / ``PARTITION_YEARS_AHEAD`` periods after it;
    with ``since``, also every period from the one holding ``since``.
    """
    today = today or utc_today()
    ahead: dict[Period, int] = {
        "month": current_app.config["PARTITION_MONTHS_AHEAD"],
        "year": current_app.config["PARTITION_YEARS_AHEAD"],
    }
    first = min(since, today) if since else today
    return [
        (table, start)
        for table in PARTITIONED_TABLES
        for start in table.periods(
            first, table.shift(table.period_start(today), ahead[table.period])
        )
    ]


def create_partition(table: PartitionedTable, start: date) -> CreatedPartition | None:
    """Create the partition of ``table`` for the period starting at ``start``, unless it exists.

    Rows of that period already in the default partition are moved into the new one together with
    every row that references them, by the SQL function ``portal_create_partition`` (installed by
    migration 2026_12_02_0010, which calls it too: one definition of names, bounds and the move).
    Flushes, never commits; commit after each call so a period's move is one transaction.
    """
    db.session.flush()  # rows pending in this session count when checking the default partition
    row = db.session.execute(
        sa.text("SELECT * FROM portal_create_partition(CAST(:parent AS regclass), :period, :day)"),
        {"parent": table.name, "period": table.period, "day": start},
    ).first()
    if row is None:
        return None
    created = CreatedPartition(row.partition_name, row.moved_rows)
    if created.moved_rows:
        logger.warning(
            "Created %s and moved %s rows of %s (with the rows referencing them) into it from %s.",
            created.name,
            created.moved_rows,
            table.name,
            table.default_partition,
        )
    return created


def ensure_partitions(today: date | None = None, *, since: date | None = None) -> list[str]:
    """Create every missing partition of :func:`planned_periods`; return their names, in order.

    Idempotent. Flushes, never commits: the caller owns the transaction (the job and the command
    use :func:`portal.operations.jobs.ensure_partitions_each_committed` instead, one per period).
    """
    created = (
        create_partition(table, start) for table, start in planned_periods(today, since=since)
    )
    return [partition.name for partition in created if partition]


def list_partitions() -> list[PartitionInfo]:
    """Every partition of the managed tables, with its bounds and (estimated) row count.

    Ordered as ``PARTITIONED_TABLES``, then by name: periods in date order, the default last.
    """
    table_names = [table.name for table in PARTITIONED_TABLES]
    rows = db.session.execute(
        sa.text(
            """
            SELECT parent.relname AS table_name, child.relname AS partition_name,
                   pg_get_expr(child.relpartbound, child.oid) AS bounds,
                   child.reltuples AS estimate
            FROM pg_inherits
            JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
            JOIN pg_class child ON child.oid = pg_inherits.inhrelid
            WHERE parent.relname IN :tables AND pg_table_is_visible(parent.oid)
            ORDER BY array_position(CAST(:tables_in_order AS text[]), parent.relname::text),
                     child.relname
            """
        ).bindparams(sa.bindparam("tables", expanding=True)),
        {"tables": table_names, "tables_in_order": table_names},
    ).all()

    partitions = []
    for row in rows:
        # reltuples is -1 until the table is first analysed; small tables are cheap to count.
        exact = row.estimate < EXACT_COUNT_BELOW
        count = (
            db.session.scalar(sa.text(f"SELECT count(*) FROM {row.partition_name}"))
            if exact
            else int(row.estimate)
        )
        partitions.append(
            PartitionInfo(row.table_name, row.partition_name, row.bounds, count, rows_exact=exact)
        )
    return partitions
