"""Marking: writing ``paid`` and the payout's id onto the records a paid payout lists, after it.

A run's critical part writes only payouts (grouping) and their statuses (sending): rewriting a
million partitioned, five-times-indexed commission records takes about a minute on its own
(docs/performance.md "Payout run"), so it is done here, outside the run, by a background job. Until
then the payout's ``commission_ids`` claim the records (no run pays them again) and say they are
paid (``payable.record_status``), so no page waits for this job to tell the truth.

The job works in small batches, each its own short transaction: up to
``PAYOUT_MARK_BATCH_RECORDS`` listed ids, taken in list order from the paid, unmarked payouts
(oldest payment first), are written, and in the same commit each payout's ``records_marked`` (how
many of its ids are done) moves on, and ``records_marked_at`` is set once all are. So it is:

* **resumable**: a worker killed mid-batch loses only that batch's uncommitted transaction; the
  next job starts from ``records_marked``;
* **idempotent**: only records still ``settled`` are written, so a batch done twice changes
  nothing, and a marked payout is never picked again;
* **safe to run twice at once**: each batch locks its payouts (``FOR UPDATE SKIP LOCKED``), so a
  second worker takes others or finds nothing.

It is queued after every commit that pays a payout (the end of a run; an admin's retry, a waiting
payout sent on ``balance.available``, a transfer learned from a webhook, a recovery) and run by the
periodic sweep ``mark-payout-records`` too, which finishes what a killed worker left.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..failpoints import failpoint
from ..queues import enqueue_after_commit
from . import driver_runs
from .models import Payout
from .payable import paid_unmarked

log = logging.getLogger(__name__)

#: A million records in batches of thousands takes minutes (docs/performance.md); ample room.
MARK_JOB_TIMEOUT = 60 * 60


@dataclass
class Marked:
    """What a marking pass did: records written, batches committed, each batch's seconds."""

    records: int = 0
    batches: int = 0
    seconds: list[float] = field(default_factory=list)


def _listed():
    return sa.func.coalesce(sa.func.cardinality(Payout.commission_ids), 0)


def mark_batch(size: int) -> tuple[int, int] | None:
    """One batch, committed: up to ``size`` listed ids of the paid, unmarked payouts. Returns
    ``(ids gone over, records written)``, or None when nothing is left to mark."""
    picked = db.session.execute(
        sa.select(Payout.id, Payout.records_marked, _listed(), Payout.driver_id)
        .where(paid_unmarked())
        .order_by(Payout.processed_at, Payout.id)
        .limit(size)  # each payout picked takes at least one id of the batch (or has none)
        .with_for_update(skip_locked=True)
    ).all()
    if not picked:
        db.session.rollback()
        return None
    ids, lows, highs, drivers = [], [], [], []
    room = size
    for payout_id, done, listed, driver_id in picked:
        if driver_id is not None:
            # A driver's few earnings (marked when paid; this is only a leftover).
            drivers.append(payout_id)
            continue
        if room <= 0:
            continue
        upto = min(listed, done + room)
        ids.append(payout_id)
        lows.append(done)
        highs.append(upto)
        room -= upto - done
    slices = {"ids": ids, "lows": lows, "highs": highs, "now": utcnow().replace(tzinfo=None)}
    written = 0
    if ids:
        # The totals trigger's statement over the transition tables is estimated at a million
        # rows whatever the batch, so PostgreSQL JIT-compiles it in every batch: ~0.37 s of
        # ~0.68 s per 5,000 records, where the work itself is ~0.04 s (docs/performance.md).
        db.session.execute(sa.text("SET LOCAL jit = off"))
        # One statement: the slice's records still settled become paid, and each payout's
        # cursor and its kept sums of unmarked records move by exactly the rows written.
        written = sum(
            db.session.execute(
                sa.text(
                    """
                    WITH written AS (
                      UPDATE commission_records c SET status = 'paid', payout_id = s.payout_id
                      FROM (SELECT p.id AS payout_id,
                                   unnest(p.commission_ids[s.lo + 1 : s.hi]) AS record_id
                            FROM unnest(CAST(:ids AS uuid[]), CAST(:lows AS int[]),
                                        CAST(:highs AS int[])) AS s(id, lo, hi)
                            JOIN payouts p ON p.id = s.id) s
                      WHERE c.id = s.record_id AND c.status = 'settled'
                      RETURNING c.payout_id, c.order_id, c.shop_id, c.refund_id,
                                c.order_amount, c.commission_amount),
                    sums AS (
                      SELECT w.payout_id, count(*) AS records, sum(w.order_amount) AS amount,
                             sum(w.commission_amount) AS commission,
                             coalesce(sum(f.fee), 0) AS fee
                      FROM written w
                      LEFT JOIN LATERAL (
                          SELECT sum(v.fee_amount) AS fee FROM vendor_platform_fees v
                          WHERE v.order_id = w.order_id AND v.vendor_id = w.shop_id
                            AND v.refund_id IS NOT DISTINCT FROM w.refund_id) f ON true
                      GROUP BY w.payout_id)
                    UPDATE payouts p SET records_marked = s.hi,
                           records_marked_at = CASE
                             WHEN s.hi >= coalesce(cardinality(p.commission_ids), 0) THEN :now END,
                           unmarked_count = p.unmarked_count - coalesce(w.records, 0),
                           unmarked_amount = p.unmarked_amount - coalesce(w.amount, 0),
                           unmarked_commission = p.unmarked_commission - coalesce(w.commission, 0),
                           unmarked_fee = p.unmarked_fee - coalesce(w.fee, 0)
                    FROM unnest(CAST(:ids AS uuid[]), CAST(:highs AS int[])) AS s(id, hi)
                    LEFT JOIN sums w ON w.payout_id = s.id
                    WHERE p.id = s.id
                    RETURNING coalesce(w.records, 0)
                    """
                ),
                slices,
            ).scalars()
        )
    for payout_id in drivers:
        written += mark_driver_payout(payout_id)
    db.session.commit()
    return sum(highs) - sum(lows) + len(drivers), written


def mark_driver_payout(payout_id) -> int:
    """A paid driver's payout: its earnings ``paid`` and the payout marked, in the caller's
    transaction (a driver's earnings are a few rows: written as the payout is paid)."""
    written = driver_runs.mark_earnings_paid([payout_id])
    db.session.execute(
        sa.update(Payout)
        .where(Payout.id == payout_id, Payout.status == "paid")
        .values(
            records_marked=sa.func.coalesce(sa.func.cardinality(Payout.earning_ids), 0),
            records_marked_at=utcnow(),
        )
    )
    return written


def mark_paid_records(size: int | None = None) -> Marked:
    """Mark until nothing paid is left unmarked, one committed batch at a time."""
    size = size or current_app.config["PAYOUT_MARK_BATCH_RECORDS"]
    done = Marked()
    while True:
        started = time.perf_counter()
        batch = mark_batch(size)
        if batch is None:
            return done
        done.seconds.append(time.perf_counter() - started)
        done.records += batch[1]
        done.batches += 1
        failpoint("records_half_marked")


def unmarked_count() -> int:
    """How many paid payouts still wait for their records to be marked."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Payout).where(paid_unmarked()))


def mark_payout_records_job() -> int:
    """The job (queued after payments, and the periodic sweep): returns the records written."""
    done = mark_paid_records()
    if done.batches:
        log.info("marked %s records paid in %s batches", done.records, done.batches)
    return done.records


def _options(key: str) -> dict:
    return {
        "job_id": f"mark-payout-records-{key}",
        "job_timeout": MARK_JOB_TIMEOUT,
        "description": "mark paid payouts' records",
    }


def enqueue_marking_after_commit(key: str) -> None:
    """Queue the marking job once the transaction that paid a payout commits. ``key`` (the run's
    or the payout's id) names the job, so one payment queues one job; a job already running
    keeps marking until none is left, and the sweep catches any it missed."""
    enqueue_after_commit(mark_payout_records_job, **_options(key))
