"""Payout runs: group each vendor's payable records into one payout, send one Transfer per payout.

A run is resumable at every step, so a worker killed anywhere and run again pays each vendor
exactly once (docs/payouts.md "Exactly once"):

1. **Group** (one transaction, set-based SQL): the payable records (``payable.payable_records``)
   are summed per vendor; a vendor that cannot be paid gets a hold with its reason, every other one
   a ``payouts`` row (``pending``, its idempotency key derived from its id) listing its records in
   ``commission_ids``, which claims them (``payable.claimed_ids``). Committed together, or not at
   all; a run is grouped once. The records themselves are not written here.
2. **Send**: per pending payout, ``key_first_sent_at`` and ``attempts`` are committed, then the
   Transfer is made with the payout's key; the payout is ``paid`` (with ``stripe_transfer_id``)
   only when the call succeeded. A resend reuses the key, and a key first sent longer ago than
   Stripe remembers keys is looked up first (``find_transfer``) and sent only if none exists.
3. **Mark**, not in the run: once the run is finished the marking job is queued (marking.py),
   which writes ``paid`` and the payout's id onto the records in small batches, outside the run.
   Until it has, the paid payout's list claims its records and says they are paid
   (``payable.record_status``): at a million records, a rewrite of the partitioned table costs a
   minute, more than the whole rest of the run's database work.

Only one process sends at a time: every step that sends money runs under a PostgreSQL advisory lock
held on a connection of its own, which the database releases when that process dies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from ..admin.audit import record
from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from ..failpoints import failpoint
from . import driver_runs, marking, notices, recovery
from .driver_models import PayoutRunDriverHold
from .gateway import BalanceInsufficient, StripeGatewayError, Transfer, gateway
from .models import ConnectedAccount, Payout, PayoutRun, PayoutRunHold
from .payable import payable_parts

#: The advisory lock of payout sending ("payo" in ASCII).
RUN_LOCK_KEY = 0x7061796F


class RunLocked(Exception):
    """Another process is sending payouts right now."""


class PayoutError(Exception):
    """A payout action that cannot be done, with the reason to show."""


# --- the lock ---------------------------------------------------------------------------------


@contextmanager
def run_lock() -> Iterator[None]:
    """Hold the payout lock for the block, or raise ``RunLocked`` at once.

    A session-level advisory lock on a connection of its own (autocommit, so it is never idle in a
    transaction): the run commits many times while holding it, and a killed process's connection
    closes, which releases it.
    """
    bind = db.engine
    own = isinstance(bind, sa.Engine)
    connection = bind.connect().execution_options(isolation_level="AUTOCOMMIT") if own else bind
    try:
        locked = connection.scalar(sa.select(sa.func.pg_try_advisory_lock(RUN_LOCK_KEY)))
        if not locked:
            raise RunLocked("A payout run is already sending transfers.")
        try:
            yield
        finally:
            connection.execute(sa.select(sa.func.pg_advisory_unlock(RUN_LOCK_KEY)))
    finally:
        if own:
            connection.close()


# --- starting and running ---------------------------------------------------------------------


def start_run(*, trigger: str, started_by: User | None = None) -> PayoutRun:
    """A new run (``running``, not grouped yet) and its audit row; the caller commits."""
    run = PayoutRun(trigger=trigger, started_by_id=started_by.id if started_by else None)
    db.session.add(run)
    db.session.flush()
    record("payout_run.started", "payout_run", run.id, actor=started_by, trigger=trigger)
    return run


def running_run() -> PayoutRun | None:
    return db.session.scalar(
        sa.select(PayoutRun).where(PayoutRun.status == "running").order_by(PayoutRun.started_at)
    )


def run_payouts(run_id: uuid.UUID | None = None, *, trigger: str = "schedule") -> PayoutRun:
    """The job: under the lock, finish every unfinished run (oldest first: a killed worker's run,
    or the one an admin started), then, unless ``run_id`` named one, start and execute a new run.
    Returns the last run executed."""
    with run_lock():
        # Until none is left: an admin may start one while this process sends.
        while (unfinished := running_run()) is not None:
            _execute(unfinished)
        if run_id is not None:
            run = db.session.get(PayoutRun, run_id)
            if run is None:
                raise PayoutError(f"There is no payout run {run_id}.")
            return run
        run = start_run(trigger=trigger)
        db.session.commit()
        _execute(run)
        return run


def _execute(run: PayoutRun) -> None:
    try:
        if not _grouped(run):
            group_run(run)
            failpoint("after_payout_rows_commit")
        send_pending(run)
        send_waiting_payouts(mark_records=False)
    except Exception as error:
        # Left running, so the job's retry (or the next run) resumes it where it stopped.
        db.session.rollback()
        run.failure_reason = f"Interrupted: {error}"[:500]
        db.session.commit()
        raise
    run.status = "finished"
    run.finished_at = utcnow()
    run.failure_reason = None
    # The records are written after the run, in the background; the sweep covers a lost job.
    marking.enqueue_marking_after_commit(f"run-{run.id}")
    db.session.commit()


def _grouped(run: PayoutRun) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(Payout.batch_id == run.id)
                | sa.exists().where(PayoutRunHold.run_id == run.id)
                | sa.exists().where(PayoutRunDriverHold.run_id == run.id)
            )
        )
    )


# --- 1. grouping ------------------------------------------------------------------------------


def _sql(query: sa.Select) -> str:
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def available_balance() -> Decimal:
    """What the platform's Stripe balance can still send: its available amount less the payouts
    already promised (pending or waiting) and not yet sent."""
    gw = gateway()
    available = gw.retrieve_balance().available_in(gw.currency)
    promised = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Payout.amount), 0)).where(
            Payout.status.in_(("pending", "waiting"))
        )
    )
    return available - promised


def group_run(run: PayoutRun) -> None:
    """Step 1, one transaction: a payout listing its records for each vendor the run pays, holds
    for the others. Every statement is set-based: the work does not grow with round trips."""
    params = {
        "run": run.id,
        "now": utcnow().replace(tzinfo=None),
        "minimum": max(Decimal(current_app.config["PAYOUT_MINIMUM"]), Decimal("0.01")),
        "available": available_balance(),
        # A negative net is carried, or recovered by reversing an earlier transfer (recovery.py).
        "reverse": recovery.enabled(),
    }
    execute = db.session.execute
    execute(sa.text("DROP TABLE IF EXISTS run_records, run_vendors"))
    # The net's parts apart: each payout keeps the sums its unmarked records count in the kept
    # totals (unmarked_*), which the pages read until marking has written them (payable.py).
    execute(
        sa.text(
            "CREATE TEMP TABLE run_records AS SELECT p.*,"
            " p.order_amount - p.commission_amount - p.fee AS vendor_net"
            f" FROM ({_sql(payable_parts())}) p"
        )
    )
    execute(sa.text("ANALYZE run_records"))
    # One row per vendor with payable records; reason NULL means the run pays it.
    execute(
        sa.text(
            """
            CREATE TEMP TABLE run_vendors AS
            SELECT r.shop_id AS vendor_id, sum(r.vendor_net) AS net, count(*) AS record_count,
                   CASE WHEN EXISTS (SELECT 1 FROM admin_payout_holds x
                                     WHERE x.vendor_id = r.shop_id) THEN 'admin_hold'
                        WHEN a.id IS NULL THEN 'no_account'
                        WHEN NOT a.payouts_enabled THEN 'payouts_disabled'
                        WHEN coalesce(a.capabilities ->> 'transfers', '') <> 'active'
                             THEN 'transfers_inactive'
                        WHEN sum(r.vendor_net) < 0 THEN
                             CASE WHEN :reverse AND EXISTS (
                                      SELECT 1 FROM payouts p
                                      WHERE p.vendor_id = r.shop_id AND p.kind = 'transfer'
                                        AND p.status = 'paid' AND p.stripe_transfer_id IS NOT NULL
                                        AND p.amount - p.amount_reversed >= -sum(r.vendor_net))
                                  THEN NULL ELSE 'negative_net' END
                        WHEN sum(r.vendor_net) < :minimum THEN 'below_minimum'
                   END::varchar(30) AS reason,
                   NULL::uuid AS payout_id,
                   array_agg(r.id ORDER BY r.id) AS record_ids,
                   sum(r.order_amount) AS amount, sum(r.commission_amount) AS commission,
                   sum(r.fee) AS fee
            FROM run_records r
            LEFT JOIN connected_accounts a ON a.vendor_id = r.shop_id
            GROUP BY r.shop_id, a.id
            """
        ),
        params,
    )
    # Never promise more than the balance: vendors held longest come first, then the smallest.
    execute(
        sa.text(
            """
            UPDATE run_vendors v SET reason = 'platform_balance'
            FROM (SELECT v.vendor_id,
                         sum(v.net) OVER (ORDER BY h.held_since NULLS LAST, v.net, v.vendor_id)
                           AS running
                  FROM run_vendors v LEFT JOIN payout_holds h ON h.vendor_id = v.vendor_id
                  WHERE v.reason IS NULL AND v.net > 0) c
            WHERE c.vendor_id = v.vendor_id AND c.running > :available
            """
        ),
        params,
    )
    execute(sa.text("UPDATE run_vendors SET payout_id = gen_random_uuid() WHERE reason IS NULL"))
    execute(sa.text("ANALYZE run_vendors"))
    execute(
        sa.text(
            """
            INSERT INTO payouts (id, batch_id, vendor_id, vendor_type, kind, amount,
                                 commission_ids, unmarked_count, unmarked_amount,
                                 unmarked_commission, unmarked_fee, status, idempotency_key,
                                 attempts, created_at, updated_at)
            SELECT v.payout_id, :run, v.vendor_id, d.vendor_type,
                   CASE WHEN v.net < 0 THEN 'recovery' ELSE 'transfer' END, v.net,
                   v.record_ids, v.record_count, v.amount, v.commission, v.fee,
                   'pending', 'payout-' || v.payout_id, 0, :now, :now
            FROM run_vendors v JOIN vendors d ON d.id = v.vendor_id
            WHERE v.reason IS NULL
            """
        ),
        params,
    )
    _keep_holds(params)
    # Drivers' earnings (pay plus tips) in the same transaction, after the vendors' balance.
    driver_runs.group_drivers(params, _sql)
    execute(sa.text("DROP TABLE run_records, run_vendors"))
    db.session.commit()


def _keep_holds(params: dict) -> None:
    execute = db.session.execute
    execute(
        sa.text(
            """
            INSERT INTO payout_run_holds (run_id, vendor_id, reason, amount_waiting, record_count)
            SELECT :run, vendor_id, reason, net, record_count FROM run_vendors
            WHERE reason IS NOT NULL
            """
        ),
        params,
    )
    execute(
        sa.text(
            """
            INSERT INTO payout_holds (vendor_id, reason, held_since, reason_since, amount_waiting,
                                      record_count, last_run_id, updated_at)
            SELECT vendor_id, reason, :now, :now, net, record_count, :run, :now
            FROM run_vendors WHERE reason IS NOT NULL
            ON CONFLICT (vendor_id) DO UPDATE SET
              reason = EXCLUDED.reason,
              reason_since = CASE WHEN payout_holds.reason = EXCLUDED.reason
                                  THEN payout_holds.reason_since ELSE EXCLUDED.reason_since END,
              amount_waiting = EXCLUDED.amount_waiting,
              record_count = EXCLUDED.record_count,
              last_run_id = EXCLUDED.last_run_id,
              updated_at = EXCLUDED.updated_at
            """
        ),
        params,
    )
    # A hold lifts when the vendor is paid, or has nothing payable left to hold.
    execute(
        sa.text(
            """
            DELETE FROM payout_holds h WHERE NOT EXISTS (
              SELECT 1 FROM run_vendors v WHERE v.vendor_id = h.vendor_id AND v.reason IS NOT NULL)
            """
        )
    )
    # Mailed once per reason, not every week the hold stays the same.
    changed = execute(
        sa.text(
            """
            UPDATE payout_holds SET notified_reason = reason
            WHERE last_run_id = :run AND notified_reason IS DISTINCT FROM reason
            RETURNING vendor_id, reason, amount_waiting
            """
        ),
        params,
    ).all()
    notices.holds_changed([tuple(row) for row in changed])


# --- 2. sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outgoing:
    """What sending and recording one payout's transfer need, read before a commit expires the
    payout: so a batch's HTTP calls run with no transaction open and no row read per payout."""

    payout_id: uuid.UUID
    amount: Decimal
    vendor_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    record_count: int
    transfer_group: str
    idempotency_key: str | None
    destination: str | None = None

    @classmethod
    def of(cls, payout: Payout, destination: str | None = None) -> _Outgoing:
        return cls(
            payout.id,
            payout.amount,
            payout.vendor_id,
            payout.driver_id,
            len(payout.commission_ids or []),
            str(payout.batch_id),
            payout.idempotency_key,
            destination,
        )


def send_pending(run: PayoutRun) -> int:
    """Step 2: send each of the run's pending payouts (the caller holds the lock), in batches of
    ``PAYOUT_SEND_BATCH``: one commit saves the batch's keys, one its statuses (_send_batch)."""
    pending = db.session.scalars(
        sa.select(Payout.id)
        .where(Payout.batch_id == run.id, Payout.status == "pending")
        .order_by(Payout.id)
    ).all()
    size = max(1, int(current_app.config["PAYOUT_SEND_BATCH"]))
    for start in range(0, len(pending), size):
        _send_batch(pending[start : start + size])
    return len(pending)


def _send(payout: Payout, *, mark_records: bool = False) -> None:
    """Send one payout's transfer (the caller holds the lock). Ends paid, waiting or failed;
    ``mark_records`` queues the marking of its records after the commit (outside a run, which
    queues it once at its end)."""
    _send_batch([payout.id], mark_records=mark_records)


def _destinations(payouts: list[Payout]) -> dict[tuple[str, uuid.UUID], str]:
    """Each holder's connected account, one read for the batch: ``("vendor"|"driver", id)``."""
    vendors = [p.vendor_id for p in payouts if p.vendor_id is not None]
    drivers = [p.driver_id for p in payouts if p.driver_id is not None]
    rows = db.session.execute(
        sa.select(
            ConnectedAccount.vendor_id,
            ConnectedAccount.driver_id,
            ConnectedAccount.stripe_account_id,
        ).where(
            sa.or_(ConnectedAccount.vendor_id.in_(vendors), ConnectedAccount.driver_id.in_(drivers))
        )
    ).all()
    found = {}
    for vendor_id, driver_id, account in rows:
        found["vendor" if vendor_id else "driver", vendor_id or driver_id] = account
    return found


def _send_batch(payout_ids: list[uuid.UUID], *, mark_records: bool = False) -> None:
    """Send these payouts' transfers (the caller holds the lock), each ending paid, waiting or
    failed, with the exactly-once rule of one payout kept for the batch:

    1. every key is saved (``key_first_sent_at``, first time only, and ``attempts``) in one
       commit **before any call**: a payout killed before its call merely looks its transfer up
       sooner once the key is a day old, and finds none;
    2. the calls, one after another, with no transaction open;
    3. the payouts whose call succeeded become ``paid`` in one statement and one commit.

    Killed between 2 and 3, every payout of the batch is still pending with its key saved, and
    the next run's resend gets Stripe's first answer (or, a day later, finds the transfer)."""
    gw = gateway()
    payouts = db.session.scalars(
        sa.select(Payout).where(Payout.id.in_(payout_ids)).order_by(Payout.id)
    ).all()
    accounts = _destinations(payouts)
    memory = timedelta(hours=current_app.config["PAYOUT_KEY_MEMORY_HOURS"])
    now = utcnow()
    outgoing: list[_Outgoing] = []
    for payout in payouts:
        if payout.kind == "recovery":
            recovery.recover(payout, mark_records=mark_records)  # one reversal, its own commits
            continue
        who = "driver" if payout.driver_id is not None else "vendor"
        destination = accounts.get((who, payout.driver_id or payout.vendor_id))
        if destination is None:
            _fail(payout, f"The {who} has no connected Stripe account.")
            continue
        forgotten = (
            payout.key_first_sent_at is not None and now - payout.key_first_sent_at >= memory
        )
        if payout.idempotency_key is None or forgotten:
            # A new key (after a replayed refusal) or one Stripe may have forgotten: the transfer
            # may exist, so look it up, and send only if none does.
            found = gw.find_transfer(transfer_group=str(payout.batch_id), payout_id=str(payout.id))
            if found is not None:
                _record_paid([(_Outgoing.of(payout), found)], mark_records=mark_records)
                continue
            payout.key_first_sent_at = None
            if payout.idempotency_key is None:
                payout.idempotency_key = f"payout-{payout.id}-{payout.attempts + 1}"
        outgoing.append(_Outgoing.of(payout, destination))
    if not outgoing:
        return
    db.session.execute(
        sa.update(Payout)
        .where(Payout.id.in_([out.payout_id for out in outgoing]))
        .values(
            key_first_sent_at=sa.func.coalesce(Payout.key_first_sent_at, now),
            attempts=Payout.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    failpoint("after_key_saved")
    sent: list[tuple[_Outgoing, Transfer]] = []
    for out in outgoing:
        try:
            transfer = gw.create_transfer(
                amount=out.amount,
                destination=out.destination,
                transfer_group=out.transfer_group,
                payout_id=str(out.payout_id),
                idempotency_key=out.idempotency_key,
            )
        except BalanceInsufficient:
            _wait(db.session.get(Payout, out.payout_id))
            continue
        except StripeGatewayError as error:
            _fail(
                db.session.get(Payout, out.payout_id),
                f"{error.message} ({error.code or 'no code'})",
            )
            continue
        failpoint("after_transfer_call")
        sent.append((out, transfer))
    _record_paid(sent, mark_records=mark_records)


def _paid(payout: Payout, transfer: Transfer, *, mark_records: bool = False) -> None:
    _record_paid([(_Outgoing.of(payout), transfer)], mark_records=mark_records)


def _record_paid(sent: list[tuple[_Outgoing, Transfer]], *, mark_records: bool) -> None:
    """The payouts whose transfers Stripe made become ``paid``: one statement, one commit."""
    matching = []
    for out, transfer in sent:
        if transfer.payout_id != str(out.payout_id) or transfer.amount != out.amount:
            payout = db.session.get(Payout, out.payout_id)
            _fail(payout, f"Stripe's transfer {transfer.id} does not match this payout.")
        else:
            matching.append((out, transfer))
    if not matching:
        return
    updated = mark_paid_many({out.payout_id: transfer.id for out, transfer in matching})
    for out, _ in matching:
        after_paid(out.payout_id, driver=out.driver_id is not None, mark_records=mark_records)
    failpoint("after_update_before_commit")
    notices.payouts_sent(
        [
            (out.vendor_id, out.amount, out.record_count)
            for out, _ in matching
            if out.payout_id in updated and out.vendor_id is not None  # drivers: their page
        ]
    )
    db.session.commit()


def mark_paid_many(transfers: dict[uuid.UUID, str]) -> set[uuid.UUID]:
    """Payouts become ``paid`` with their transfer (``{payout id: transfer id}``), in one
    statement; returns the ids this call changed. Conditional, so a webhook and the worker
    recording the same transfer act, and mail, once."""
    now = utcnow().replace(tzinfo=None)
    rows = db.session.execute(
        sa.text(
            """
            UPDATE payouts p SET status = 'paid', processed_at = :now, failed_at = NULL,
                   failure_reason = NULL, updated_at = :now, stripe_transfer_id = s.transfer_id
            FROM unnest(CAST(:ids AS uuid[]), CAST(:transfers AS varchar[])) AS s(id, transfer_id)
            WHERE p.id = s.id AND p.status <> 'paid'
            RETURNING p.id
            """
        ),
        {"ids": list(transfers), "transfers": list(transfers.values()), "now": now},
    ).scalars()
    return set(rows)


def mark_paid_once(payout: Payout, **stripe_ids: str) -> bool:
    """The payout becomes ``paid`` with Stripe's id of what was made; True only for the caller
    that made the change. Conditional, so a webhook and the worker recording the same transfer (or
    reversal) act, and mail, once."""
    now = utcnow()
    updated = db.session.execute(
        sa.update(Payout)
        .where(Payout.id == payout.id, Payout.status != "paid")
        .values(
            status="paid",
            processed_at=now,
            failed_at=None,
            failure_reason=None,
            updated_at=now,
            **stripe_ids,
        )
        .returning(Payout.id)
    ).first()
    return updated is not None


def after_paid(payout_id: uuid.UUID, *, driver: bool, mark_records: bool) -> None:
    """In the transaction that paid it: a driver's few earnings are written at once; a vendor's
    records are left to the marking job, queued after the commit when ``mark_records``."""
    if driver:
        marking.mark_driver_payout(payout_id)
    elif mark_records:
        marking.enqueue_marking_after_commit(f"payout-{payout_id}")


def record_transfer(payout: Payout, transfer: Transfer) -> None:
    """A transfer Stripe made for this payout, learned from a webhook: paid, records too."""
    _paid(payout, transfer, mark_records=True)


def _wait(payout: Payout) -> None:
    # Stripe replays the refusal under this key, so the resend needs another (see _send).
    payout.status = "waiting"
    payout.idempotency_key = None
    payout.key_first_sent_at = None
    payout.failure_reason = (
        "The platform's Stripe balance was short; it goes out when it is topped up."
    )
    db.session.commit()


def _fail(payout: Payout, reason: str) -> None:
    payout.status = "failed"
    payout.failed_at = utcnow()
    payout.failure_reason = reason
    if payout.vendor_id is not None:
        notices.payout_failed(payout.vendor_id, payout.amount, reason)
    db.session.commit()


def send_waiting_payouts(*, mark_records: bool = True) -> int:
    """Send the payouts that waited for the balance, oldest first, while the available balance
    covers them (the caller holds the lock). Returns how many were paid."""
    waiting = db.session.scalars(
        sa.select(Payout).where(Payout.status == "waiting").order_by(Payout.created_at, Payout.id)
    ).all()
    if not waiting:
        return 0
    gw = gateway()
    available = gw.retrieve_balance().available_in(gw.currency)
    paid = 0
    for payout in waiting:
        if payout.amount > available:
            break  # oldest first: a later, smaller one does not overtake it
        payout.status = "pending"
        _send(payout, mark_records=mark_records)
        if payout.status != "paid":
            break  # short again (or failed): the next balance.available goes on
        available -= payout.amount
        paid += 1
    return paid


# --- an admin's retry -------------------------------------------------------------------------


def retry_payout(payout_id: uuid.UUID, *, actor: User) -> Payout:
    """Send a failed payout again, under the lock, with its own key (looked up first when Stripe
    may have forgotten it): a transfer that was made is recorded, never made twice."""
    with run_lock():
        payout = db.session.get(Payout, payout_id)
        if payout is None:
            raise PayoutError("There is no such payout.")
        if payout.status != "failed":
            raise PayoutError(f"Only a failed payout can be retried; this one is {payout.status}.")
        record(
            "payout.retried",
            "payout",
            payout.id,
            actor=actor,
            amount=str(payout.amount),
            reason=payout.failure_reason,
        )
        payout.status = "pending"
        _send(payout, mark_records=True)
        return payout
