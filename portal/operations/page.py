"""What the admin operations page shows, and the actions it offers (run a job now, retry or delete
a failed RQ job).

* every scheduled job (``portal/scheduling.py``) with its schedule, its last run, outcome and
  duration: from ``job_runs`` for the retention and maintenance jobs (which record themselves,
  with progress while running), from RQ's own job record (kept a day) for the others;
* the partitions of each partitioned table with their range, rows and size, rows in a default
  partition highlighted; the months retention keeps back, and why;
* the RQ queues with their waiting, running and failed jobs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from ..admin.overview import partition_period
from ..clock import as_utc
from ..extensions import db
from ..queues import enqueue, get_queue, get_queues, get_redis
from ..scheduling import PeriodicJob, last_runs, periodic_jobs
from .commission_retention import CommissionMonth, kept_commission_months
from .jobs import OPERATIONS_JOBS, enqueue_operations_job
from .models import JobRun
from .partitions import list_partitions
from .runs import latest_runs

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class OperationsError(LookupError):
    """No such job (a stale page, a typed address)."""


def schedule_words(job: PeriodicJob) -> str:
    at = f"{job.hour:02d}:{job.minute:02d} UTC"
    if job.every == "minutely":
        return "Every minute"
    if job.every == "hourly":
        return f"Hourly at :{job.minute:02d}"
    if job.every == "daily":
        return f"Daily at {at}"
    if job.every == "weekly":
        return f"{WEEKDAYS[job.weekday]}s at {at}"
    return f"Monthly on day {job.day} at {at}"


@dataclass(frozen=True)
class JobLine:
    name: str
    schedule: str
    last_started: datetime | None
    outcome: str | None  # succeeded, failed, skipped, running, queued; None: never seen
    duration: timedelta | None
    progress: str | None
    summary: str | None
    recorded: bool  # its runs are in job_runs

    @property
    def running(self) -> bool:
        return self.outcome in ("running", "queued")

    @property
    def tone(self) -> str:
        return {
            "succeeded": "success",
            "failed": "critical",
            "skipped": "warning",
            "running": "info",
            "queued": "info",
        }.get(self.outcome or "", "neutral")


_RQ_OUTCOMES = {
    JobStatus.FINISHED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.STARTED: "running",
    JobStatus.QUEUED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.DEFERRED: "queued",
}


def _manual_job(name: str, queue: str) -> Job | None:
    job = get_queue(queue).fetch_job(f"manual_{name}")
    if job is not None and job.get_status(refresh=False) in (
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.SCHEDULED,
    ):
        return job
    return None


def _from_run(job: PeriodicJob, run: JobRun | None, waiting: Job | None) -> JobLine:
    outcome = run.outcome if run else None
    if waiting is not None and outcome != "running":
        outcome = "queued"
    return JobLine(
        job.name,
        schedule_words(job),
        run.started_at if run else None,
        outcome,
        run.duration if run else None,
        run.progress if run and run.outcome == "running" else None,
        run.summary if run else None,
        recorded=True,
    )


def _from_rq(job: PeriodicJob, record: dict, waiting: Job | None) -> JobLine:
    rq_job = waiting or (
        get_queue(job.queue).fetch_job(record["job_id"]) if record.get("job_id") else None
    )
    started = ended = None
    outcome = None
    if rq_job is not None:
        outcome = _RQ_OUTCOMES.get(rq_job.get_status(refresh=False))
        started = as_utc(rq_job.started_at) if rq_job.started_at else None
        ended = as_utc(rq_job.ended_at) if rq_job.ended_at else None
    return JobLine(
        job.name,
        schedule_words(job),
        started or record.get("enqueued_at"),
        outcome,
        ended - started if started and ended else None,
        None,
        None,
        recorded=False,
    )


def job_lines() -> list[JobLine]:
    """Every scheduled job, in the registry's order."""
    jobs = periodic_jobs()
    runs = latest_runs([job.name for job in jobs if job.name in OPERATIONS_JOBS])
    records = {row["name"]: row for row in last_runs()}
    lines = []
    for job in jobs:
        waiting = _manual_job(job.name, job.queue)
        if job.name in OPERATIONS_JOBS:
            lines.append(_from_run(job, runs.get(job.name), waiting))
        else:
            lines.append(_from_rq(job, records.get(job.name, {}), waiting))
    return lines


def job_line(name: str) -> JobLine:
    for line in job_lines():
        if line.name == name:
            return line
    raise OperationsError(f"There is no scheduled job called {name!r}.")


def run_now(name: str) -> Job:
    """Queue a scheduled job to run now (one at a time: a second click returns the same job)."""
    job = next((job for job in periodic_jobs() if job.name == name), None)
    if job is None:
        raise OperationsError(f"There is no scheduled job called {name!r}.")
    if name in OPERATIONS_JOBS:
        return enqueue_operations_job(name)
    options = {"job_timeout": job.timeout} if job.timeout else {}
    return enqueue(
        job.func_path,
        job_id=f"manual_{name}",
        queue=job.queue,
        description=f"run now: {name}",
        meta={"periodic": name, "slot": "manual"},
        **options,
    )


# --- partitions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionLine:
    table: str
    name: str
    period: str
    rows: int
    rows_exact: bool
    bytes: int
    is_default: bool

    @property
    def needs_attention(self) -> bool:
        """Rows in a default partition: written before their month's partition existed."""
        return self.is_default and self.rows > 0


def partition_lines() -> list[PartitionLine]:
    partitions = list_partitions()
    sizes = dict(
        db.session.execute(
            sa.text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN :names"
            ).bindparams(sa.bindparam("names", expanding=True)),
            {"names": [p.name for p in partitions] or [""]},
        ).all()
    )
    return [
        PartitionLine(
            p.table,
            p.name,
            partition_period(p),
            p.rows,
            p.rows_exact,
            sizes.get(p.name, 0),
            p.is_default,
        )
        for p in partitions
    ]


def kept_months() -> list[CommissionMonth]:
    return kept_commission_months()


# --- RQ queues ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueLine:
    name: str  # the purpose ("default")
    waiting: int
    running: int
    failed: int


def queue_lines() -> list[QueueLine]:
    now = time.time()
    lines = []
    for purpose, queue in zip(current_app.config["RQ_QUEUES"], get_queues(), strict=True):
        failed = FailedJobRegistry(queue=queue)
        started = StartedJobRegistry(queue=queue)
        redis = get_redis()
        lines.append(
            QueueLine(
                purpose,
                queue.count,
                redis.zcard(started.key),
                redis.zcount(failed.key, now, "+inf"),
            )
        )
    return lines


def _failed_registry(queue: str) -> FailedJobRegistry:
    if queue not in current_app.config["RQ_QUEUES"]:
        raise OperationsError(f"There is no queue called {queue!r}.")
    return FailedJobRegistry(queue=get_queue(queue))


def _failed_job(queue: str, job_id: str) -> Job:
    registry = _failed_registry(queue)
    if job_id not in registry.get_job_ids():
        raise OperationsError("That job is not among the failed jobs any more.")
    return Job.fetch(job_id, connection=get_redis())


def retry_failed(queue: str, job_id: str) -> None:
    """Put a failed job back on its queue (RQ keeps its id, arguments and retries)."""
    _failed_job(queue, job_id)
    _failed_registry(queue).requeue(job_id)


def delete_failed(queue: str, job_id: str) -> None:
    """Forget a failed job: it leaves the registry and Redis."""
    _failed_job(queue, job_id).delete()


def page_context() -> dict:
    """Everything the operations page shows."""
    from .failed_jobs import failed_job_count, recent_failed_jobs

    return {
        "jobs": job_lines(),
        "partitions": partition_lines(),
        "kept_months": kept_months(),
        "queues": queue_lines(),
        "failed_jobs": recent_failed_jobs(20),
        "failed_count": failed_job_count(),
    }
