"""Retiring whole monthly partitions: which months are past a retention window, and the detach.

Shared by the orders archive (``order_archive.py``) and the commission aggregation
(``commission_retention.py``). A partition leaves in two short steps, each its own transaction:

1. ``ALTER TABLE parent DETACH PARTITION child``: the plain form, because ``DETACH ...
   CONCURRENTLY`` is refused while the table has a default partition (ours all do). It takes an
   ACCESS EXCLUSIVE lock on the parent, so it runs last in its transaction and under
   ``lock_timeout`` (``RETENTION_LOCK_TIMEOUT_MS``): a detach that cannot get the lock gives up
   instead of queueing every reader behind it, and the next run tries again. How long the lock is
   held is measured and recorded (docs/operations.md).
2. ``DROP TABLE child``: the detached table is no partition any more, so this locks only itself.

A run killed between the two leaves a detached table with the partition's name; the next run
finds it (:func:`detached_leftovers`) and finishes it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from .. import clock
from ..extensions import db
from ..periods import Period


@dataclass(frozen=True)
class MonthPartition:
    name: str
    month: Period


def _month_of(table: str, name: str) -> Period | None:
    match = re.fullmatch(rf"{re.escape(table)}_(\d{{4}})_(\d{{2}})", name)
    return Period(int(match.group(1)), int(match.group(2))) if match else None


def first_kept_month(retention_months: int, today: date | None = None) -> Period:
    """The oldest month still inside the window: every month before it is older than
    ``retention_months`` months in full."""
    return Period.containing(today or clock.today()).shift(-retention_months)


def attached_months(table: str, before: Period) -> list[MonthPartition]:
    """The monthly partitions of ``table`` for months before ``before``, oldest first."""
    names = db.session.scalars(
        sa.text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = CAST(:table AS regclass) ORDER BY child.relname"
        ),
        {"table": table},
    ).all()
    return _months(table, names, before)


def detached_leftovers(table: str) -> list[MonthPartition]:
    """Tables named like a monthly partition of ``table`` that are not attached: a run detached
    them and did not get to drop them."""
    names = db.session.scalars(
        sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition "
            "AND c.relname ~ :pattern ORDER BY c.relname"
        ),
        {"pattern": f"^{table}_[0-9]{{4}}_[0-9]{{2}}$"},
    ).all()
    return _months(table, names, None)


def _months(table: str, names, before: Period | None) -> list[MonthPartition]:
    found = []
    for name in names:
        month = _month_of(table, name)
        if month is not None and (before is None or month < before):
            found.append(MonthPartition(name, month))
    return found


def detach(table: str, partition: str) -> float:
    """Detach ``partition`` from ``table`` and commit; the milliseconds from the statement's
    start to the commit (the ACCESS EXCLUSIVE lock is held no longer than that).

    The detach is the last statement of the caller's transaction: whatever must happen with it
    (the commission summaries) is written before, under weaker locks. A lock that does not come
    within ``lock_timeout`` rolls it all back (``sqlalchemy.exc.OperationalError``).
    """
    timeout = int(current_app.config["RETENTION_LOCK_TIMEOUT_MS"])
    db.session.execute(sa.text(f"SET LOCAL lock_timeout = {timeout}"))
    started = time.perf_counter()
    try:
        db.session.execute(sa.text(f'ALTER TABLE "{table}" DETACH PARTITION "{partition}"'))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return (time.perf_counter() - started) * 1000


def drop_detached(partition: str) -> None:
    db.session.execute(sa.text(f'DROP TABLE IF EXISTS "{partition}"'))
    db.session.commit()
