"""A small periodic-job scheduler on top of RQ.

Every periodic job has a cadence (minutely, hourly, daily, weekly, monthly) and a start time
inside its period. Time is cut into *slots*, one per period (``2026-11-25`` for a daily job); a
slot is *due* from its start time until the period ends. ``tick(now)`` enqueues each due job
once per slot:

* a Redis ``SET NX`` marker per job and slot, with a TTL of two periods, makes several schedulers
  (or one that restarted) agree that the slot was already handled;
* the RQ job id is deterministic (``periodic_<name>_<slot>``), so even a lost marker cannot put
  two copies of the same slot on the queue while one is waiting.

Because a slot stays due until its period ends, the first tick after start-up catches up: a
machine that was down at 01:00 still runs today's daily job when it comes back. A period that
passed entirely while nothing was ticking is not replayed; the jobs are written to catch up on
their own (``ensure_partitions_job`` creates every missing partition, not just today's).

Schedules are configuration: ``PERIODIC_JOBS`` in the app config either replaces the registry
(a list of ``PeriodicJob`` or dicts) or adjusts it (a dict of name -> field overrides; ``None``
switches a job off; a new name with a full definition adds a job).
"""

from __future__ import annotations

import calendar
import json
import logging
import re
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from flask import Flask, current_app

from .clock import as_utc, utcnow
from .queues import enqueue, get_queue, get_redis

log = logging.getLogger(__name__)

Cadence = Literal["minutely", "hourly", "daily", "weekly", "monthly"]
CADENCES: tuple[str, ...] = ("minutely", "hourly", "daily", "weekly", "monthly")
_NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

#: How long a slot's marker lives, per cadence: two periods, so a slot can never be seen as new
#: again while it is still current.
MARKER_TTL = {
    "minutely": timedelta(minutes=2),
    "hourly": timedelta(hours=2),
    "daily": timedelta(days=2),
    "weekly": timedelta(days=14),
    "monthly": timedelta(days=62),
}


@dataclass(frozen=True)
class PeriodicJob:
    """One periodic job: run ``func_path`` once per period, from ``hour:minute`` (UTC) on.

    ``weekday`` (0 = Monday) is used by weekly jobs, ``day`` (1-31, clamped to the month's last day)
    by monthly ones; hourly jobs use only ``minute``, minutely jobs none of them.
    """

    name: str
    func_path: str
    every: Cadence
    hour: int = 0
    minute: int = 0
    weekday: int = 0
    day: int = 1
    queue: str = "default"
    timeout: int | None = None

    def __post_init__(self) -> None:
        if not _NAME_RE.fullmatch(self.name):
            raise ValueError(f"periodic job name {self.name!r}: use lower-case words and '-'")
        if self.every not in CADENCES:
            raise ValueError(f"{self.name}: every must be one of {CADENCES}, not {self.every!r}")
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError(f"{self.name}: hour must be 0-23 and minute 0-59")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"{self.name}: weekday must be 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.day <= 31:
            raise ValueError(f"{self.name}: day must be 1-31")


#: The default registry; app config ``PERIODIC_JOBS`` may adjust or replace it.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        "ensure-partitions",
        "portal.operations.jobs.ensure_partitions_job",
        every="daily",
        hour=1,
    ),
    PeriodicJob(
        "settle-commissions",
        "portal.commissions.jobs.settle_commissions_job",
        every="daily",
        hour=2,
    ),
    # Points (portal/loyalty/jobs.py): after the commissions settle, the same return-window rule
    # settles pending points, then points past their months expire; lapsed holds every minute.
    PeriodicJob(
        "settle-and-expire-points",
        "portal.loyalty.jobs.nightly_points_job",
        every="daily",
        hour=2,
        minute=30,
    ),
    PeriodicJob(
        "release-points-holds",
        "portal.loyalty.jobs.release_points_holds_job",
        every="minutely",
    ),
    PeriodicJob(
        "expire-promotions",
        "portal.tiers.jobs.expire_promotions_job",
        every="daily",
        minute=5,
    ),
    PeriodicJob(
        "requeue-lost-jobs",
        "portal.operations.jobs.requeue_lost_jobs_job",
        every="minutely",
        queue="high",
    ),
    # Delivery offers nobody answered go to the next driver (portal/deliveries/dispatch.py).
    PeriodicJob(
        "expire-delivery-offers",
        "portal.deliveries.dispatch.sweep_offers_job",
        every="minutely",
        queue="high",
    ),
    PeriodicJob(
        "payout-run",
        "portal.payouts.jobs.payout_run_job",
        every="weekly",
        weekday=0,
        hour=6,
        timeout=2 * 60 * 60,
    ),
    # Paid payouts' records left unmarked (a killed or lost marking job: portal/payouts/marking.py).
    # Pages and runs read the truth from the payouts meanwhile, so an hour's delay costs nothing.
    PeriodicJob(
        "mark-payout-records",
        "portal.payouts.marking.mark_payout_records_job",
        every="hourly",
        minute=15,
        queue="low",
        timeout=60 * 60,
    ),
    # Drivers' positions (portal/deliveries/positions.py): whatever the worker's consumer thread
    # left in the stream, and the history past POSITION_HISTORY_DAYS.
    PeriodicJob(
        "apply-positions",
        "portal.deliveries.positions.apply_positions_job",
        every="minutely",
        queue="high",
    ),
    PeriodicJob(
        "prune-positions",
        "portal.deliveries.positions.delete_old_positions_job",
        every="daily",
        hour=4,
        queue="low",
    ),
    # Referral links' first visits the worker's consumer thread left in their Redis stream.
    PeriodicJob(
        "apply-referral-visits",
        "portal.referrals.buffer.apply_visits_job",
        every="minutely",
        queue="high",
    ),
    # Unconverted referral visits past REFERRAL_RETENTION_DAYS (portal/referrals/retention.py).
    PeriodicJob(
        "prune-referral-visits",
        "portal.referrals.retention.delete_old_visits_job",
        every="daily",
        hour=4,
        minute=30,
        queue="low",
    ),
    # Backups with pgBackRest (portal/operations/backups*.py, docs/operations.md); each does nothing
    # where backups are not configured. An incremental overlapping the full one is skipped.
    PeriodicJob(
        "backup-full",
        "portal.operations.backups.full_backup_job",
        every="daily",
        minute=30,
        queue="low",
        timeout=6 * 60 * 60,
    ),
    PeriodicJob(
        "backup-incremental",
        "portal.operations.backups.incremental_backup_job",
        every="hourly",
        minute=45,
        queue="low",
        timeout=2 * 60 * 60,
    ),
    PeriodicJob(
        "check-wal-archiving",
        "portal.operations.backups_alerts.check_archiving_job",
        every="minutely",
    ),
    PeriodicJob(
        "restore-test",
        "portal.operations.backups_restore.restore_test_job",
        every="weekly",
        weekday=6,
        hour=5,
        queue="low",
        timeout=6 * 60 * 60,
    ),
    PeriodicJob(
        "expire-backups",
        "portal.operations.backups.expire_job",
        every="monthly",
        day=1,
        hour=5,
        minute=30,
        queue="low",
        timeout=60 * 60,
    ),
    # Retention and maintenance (portal/operations/jobs.py, docs/operations.md): one
    # at a time under an advisory lock, each run recorded in job_runs.
    PeriodicJob(
        "analyze", "portal.operations.jobs.analyze_job", every="daily", hour=5, queue="low"
    ),
    PeriodicJob(
        "vacuum",
        "portal.operations.jobs.vacuum_job",
        every="weekly",
        weekday=6,
        hour=3,
        queue="low",
        timeout=4 * 3600,
    ),
    PeriodicJob(
        "reindex",
        "portal.operations.jobs.reindex_job",
        every="monthly",
        day=15,
        hour=3,
        queue="low",
        timeout=4 * 3600,
    ),
    PeriodicJob(
        "aggregate-commissions",
        "portal.operations.jobs.aggregate_commissions_job",
        every="monthly",
        day=2,
        hour=4,
        queue="low",
        timeout=3 * 3600,
    ),
    PeriodicJob(
        "archive-orders",
        "portal.operations.jobs.archive_orders_job",
        every="monthly",
        day=3,
        hour=4,
        queue="low",
        timeout=6 * 3600,
    ),
    PeriodicJob(
        "prune-mail-folder",
        "portal.operations.jobs.prune_mail_folder_job",
        every="daily",
        hour=5,
        minute=30,
        queue="low",
    ),
    PeriodicJob(
        "close-previous-month",
        "portal.tiers.jobs.close_previous_month_job",
        every="monthly",
        day=1,
        hour=3,
        timeout=30 * 60,
    ),
)


def period_bounds(job: PeriodicJob, now: datetime) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of the period that contains ``now``."""
    now = as_utc(now)
    if job.every == "minutely":
        start = now.replace(second=0, microsecond=0)
        return start, start + timedelta(minutes=1)
    if job.every == "hourly":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if job.every == "daily":
        return day_start, day_start + timedelta(days=1)
    if job.every == "weekly":
        start = day_start - timedelta(days=now.weekday())
        return start, start + timedelta(days=7)
    start = day_start.replace(day=1)
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


def period_key(job: PeriodicJob, now: datetime) -> str:
    """The slot ``now`` belongs to: ``2026-11-25T1340``, ``2026-11-25T13``, ``2026-11-25``,
    ``2026-W48``, ``2026-11``."""
    start, _ = period_bounds(job, now)
    if job.every == "minutely":
        return start.strftime("%Y-%m-%dT%H%M")  # no ":": RQ job ids allow [A-Za-z0-9_-] only
    if job.every == "hourly":
        return start.strftime("%Y-%m-%dT%H")
    if job.every == "daily":
        return start.strftime("%Y-%m-%d")
    if job.every == "weekly":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.strftime("%Y-%m")


def slot_start(job: PeriodicJob, now: datetime) -> datetime:
    """When the slot containing ``now`` becomes due."""
    start, _ = period_bounds(job, now)
    if job.every == "minutely":
        return start
    if job.every == "hourly":
        return start + timedelta(minutes=job.minute)
    at = timedelta(hours=job.hour, minutes=job.minute)
    if job.every == "daily":
        return start + at
    if job.every == "weekly":
        return start + timedelta(days=job.weekday) + at
    last_day = calendar.monthrange(start.year, start.month)[1]
    return start + timedelta(days=min(job.day, last_day) - 1) + at


def is_due(job: PeriodicJob, now: datetime) -> bool:
    return as_utc(now) >= slot_start(job, now)


def periodic_jobs(app: Flask | None = None) -> list[PeriodicJob]:
    """The registry with the app's ``PERIODIC_JOBS`` applied."""
    app = app or current_app._get_current_object()
    override = app.config.get("PERIODIC_JOBS")
    if override is None:
        return list(PERIODIC_JOBS)
    if isinstance(override, list | tuple):
        return [_coerce(item) for item in override]
    if not isinstance(override, dict):
        raise TypeError("PERIODIC_JOBS must be a list of jobs or a dict of name -> overrides")

    known = {f.name for f in fields(PeriodicJob)}
    jobs = {job.name: job for job in PERIODIC_JOBS}
    for name, changes in override.items():
        if changes is None or changes is False:
            jobs.pop(name, None)
            continue
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"PERIODIC_JOBS[{name!r}]: unknown fields {sorted(unknown)}")
        if name in jobs:
            jobs[name] = replace(jobs[name], **changes)
        else:
            jobs[name] = PeriodicJob(name=name, **changes)
    return list(jobs.values())


def _coerce(item: PeriodicJob | dict[str, Any]) -> PeriodicJob:
    return item if isinstance(item, PeriodicJob) else PeriodicJob(**item)


def due_jobs(now: datetime, app: Flask | None = None) -> list[PeriodicJob]:
    """The configured jobs whose current slot has started."""
    return [job for job in periodic_jobs(app) if is_due(job, now)]


def job_id_for(job: PeriodicJob, slot: str) -> str:
    # RQ allows only [A-Za-z0-9_-] in job ids; names and slots never contain "_".
    return f"periodic_{job.name}_{slot}"


def _key(app: Flask, *parts: str) -> str:
    return ":".join((app.config["RQ_KEY_PREFIX"], "periodic", *parts))


def marker_key(job: PeriodicJob, slot: str, app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    return _key(app, "slot", job.name, slot)


def last_runs_key(app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    return _key(app, "last-runs")


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every due job whose current slot has not been enqueued yet; return the job ids.

    Safe to call as often as you like, from as many processes as you like.
    """
    app = current_app._get_current_object()
    now = as_utc(now or utcnow())
    redis = get_redis(app)
    enqueued = []
    for job in due_jobs(now, app):
        slot = period_key(job, now)
        marker = marker_key(job, slot, app)
        ttl = int(MARKER_TTL[job.every].total_seconds())
        if not redis.set(marker, now.isoformat(), nx=True, ex=ttl):
            continue
        job_id = job_id_for(job, slot)
        try:
            options = {"job_timeout": job.timeout} if job.timeout else {}
            enqueue(
                job.func_path,
                job_id=job_id,
                queue=job.queue,
                description=f"periodic {job.name} ({slot})",
                meta={"periodic": job.name, "slot": slot},
                **options,
            )
        except Exception:
            # Leave the slot open so the next tick tries again.
            redis.delete(marker)
            raise
        record = {"enqueued_at": now.isoformat(), "job_id": job_id, "slot": slot}
        redis.hset(last_runs_key(app), job.name, json.dumps(record))
        log.info("periodic job %s enqueued for %s as %s", job.name, slot, job_id)
        enqueued.append(job_id)
    return enqueued


def last_runs() -> list[dict[str, Any]]:
    """For each configured job: its schedule, last enqueue time, job id and that job's status.

    ``status`` is None when the job has expired from Redis (its result and failure TTLs).
    """
    app = current_app._get_current_object()
    stored = get_redis(app).hgetall(last_runs_key(app))
    rows = []
    for job in periodic_jobs(app):
        raw = stored.get(job.name.encode())
        record = json.loads(raw) if raw else {}
        status = None
        if record.get("job_id"):
            rq_job = get_queue(job.queue, app).fetch_job(record["job_id"])
            status = rq_job.get_status(refresh=False) if rq_job is not None else None
        rows.append(
            {
                "name": job.name,
                "every": job.every,
                "job": job,
                "slot": record.get("slot"),
                "job_id": record.get("job_id"),
                "enqueued_at": (datetime.fromisoformat(record["enqueued_at"]) if record else None),
                "status": status,
            }
        )
    return rows
