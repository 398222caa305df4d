"""The partition manager: keeps a partition ready for every period a row may be written to.

``orders`` and ``commission_records`` are partitioned by month, ``points_transactions`` by year,
all on ``created_at``. The migration creates each table with a DEFAULT partition only
(``<table>_default``), so a row is never rejected; the periods themselves (``orders_2026_11``,
``points_transactions_2026``) are created ahead of time by :func:`ensure_partitions`, run by
``flask partitions ensure`` at deploy and by a scheduled job.

A period whose rows already sit in the default partition (written before its partition existed) is
skipped with a warning: PostgreSQL would refuse to create the partition, and the rows are safe where
they are. Moving them is a manual step described in docs/schema.md.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..periods import Period as MonthPeriod

logger = logging.getLogger(__name__)

Period = Literal["month", "year"]

# Serialises concurrent runs (deploy command and scheduled job): two sessions racing on the same
# CREATE TABLE IF NOT EXISTS can still collide in the catalog. Arbitrary, used nowhere else.
ADVISORY_LOCK_KEY = 7_261_120_001

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

    def partition_name(self, start: date) -> str:
        if self.period == "year":
            return f"{self.name}_{start:%Y}"
        return f"{self.name}_{start:%Y_%m}"

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
    return datetime.now(UTC).date()


def ensure_partitions(today: date | None = None, *, since: date | None = None) -> list[str]:
    """Create the missing partitions for the current period and the configured periods ahead.

    ``PARTITION_MONTHS_AHEAD`` / ``PARTITION_YEARS_AHEAD`` say how many periods after the current
    one must exist. With ``since``, every period from the one holding ``since`` is created too (run
    it before back-filling history). Idempotent; returns the names of the partitions it created, in
    creation order. Flushes, never commits: the caller owns the transaction.
    """
    today = today or utc_today()
    ahead: dict[Period, int] = {
        "month": current_app.config["PARTITION_MONTHS_AHEAD"],
        "year": current_app.config["PARTITION_YEARS_AHEAD"],
    }
    db.session.flush()  # rows pending in this session count when checking the default partition
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))

    created: list[str] = []
    for table in PARTITIONED_TABLES:
        existing = _partition_names(table.name)
        first = min(since, today) if since else today
        last = table.shift(table.period_start(today), ahead[table.period])
        for start in table.periods(first, last):
            name = table.partition_name(start)
            if name in existing:
                continue
            end = table.shift(start, 1)
            if table.default_partition in existing and _default_holds_rows(table, start, end):
                logger.warning(
                    "Not creating %s: %s already holds rows from %s to %s; they stay there.",
                    name,
                    table.default_partition,
                    start,
                    end,
                )
                continue
            # Identifiers and bounds come from the fixed table list and dates, never from input;
            # DDL takes no bind parameters.
            db.session.execute(
                sa.text(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table.name} "
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
            )
            created.append(name)
    return created


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


def _partition_names(table: str) -> set[str]:
    return set(
        db.session.scalars(
            sa.text(
                "SELECT child.relname FROM pg_inherits "
                "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
                "WHERE pg_inherits.inhparent = CAST(:table AS regclass)"
            ),
            {"table": table},
        )
    )


def _default_holds_rows(table: PartitionedTable, start: date, end: date) -> bool:
    return bool(
        db.session.scalar(
            sa.text(
                f"SELECT EXISTS (SELECT 1 FROM {table.default_partition} "
                "WHERE created_at >= :start AND created_at < :end)"
            ),
            {"start": start, "end": end},
        )
    )
