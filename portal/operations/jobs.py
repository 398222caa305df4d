"""Background jobs of operations. They run inside the app context the RQ worker provides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from rq.job import Job

from .. import clock
from ..extensions import db
from ..queues import enqueue
from . import maintenance, retention
from .partitions import create_partition, planned_periods
from .requeue import requeue_lost_jobs
from .runs import JobSkipped, Run, recorded_run


def ensure_partitions_each_committed(since: date | None = None) -> list[str]:
    """Create the missing partitions, committing after each one.

    A period whose rows sit in the default partition is moved in its own transaction, so a large
    move holds its locks no longer than it must and a failure leaves the earlier periods done.
    """
    created = []
    for table, start in planned_periods(since=since):
        partition = create_partition(table, start)
        db.session.commit()
        if partition:
            created.append(partition.name)
    return created


def ensure_partitions_job() -> list[str]:
    """Create the partitions the coming periods need. Idempotent: safe to run at any interval."""
    return ensure_partitions_each_committed()


def requeue_lost_jobs_job() -> list[str]:
    """Put queued month closes and imports whose RQ job never reached Redis back on the queue."""
    return requeue_lost_jobs()


# --- retention and maintenance: recorded runs under one advisory lock (runs.py) -------------


@dataclass(frozen=True)
class OperationsJob:
    """A retention or maintenance job: ``name`` is its scheduler name and ``flask ops`` command."""

    name: str
    body: Callable[[Run], None]
    title: str
    queue: str = "low"
    timeout: int = 60 * 60


OPERATIONS_JOBS: dict[str, OperationsJob] = {
    job.name: job
    for job in (
        OperationsJob(
            "archive-orders", retention.archive_orders, "Archive old orders", timeout=6 * 3600
        ),
        OperationsJob(
            "aggregate-commissions",
            retention.aggregate_commissions,
            "Aggregate old commission records",
            timeout=3 * 3600,
        ),
        OperationsJob("analyze", maintenance.analyze_tables, "ANALYZE changed tables"),
        OperationsJob(
            "vacuum", maintenance.vacuum_tables, "VACUUM (ANALYZE) tables", timeout=4 * 3600
        ),
        OperationsJob(
            maintenance.REINDEX_JOB,
            maintenance.reindex_indexes,
            "REINDEX CONCURRENTLY bloated indexes",
            timeout=4 * 3600,
        ),
        OperationsJob("prune-mail-folder", retention.prune_mail_folder, "Delete old stored mail"),
        # The features' own nightly jobs (scheduled under these names), here for run-now and
        # `flask ops ... --dry-run`.
        OperationsJob(
            "prune-referral-visits", retention.prune_referral_visits, "Delete old referral visits"
        ),
        OperationsJob("prune-positions", retention.prune_positions, "Delete old driver positions"),
    )
}


def run_operations_job(name: str, *, dry_run: bool = False) -> Run | None:
    """Run one job now in this process, recorded; None when another operations job held the lock."""
    job = OPERATIONS_JOBS[name]
    try:
        with recorded_run(name, dry_run=dry_run) as run:
            job.body(run)
            db.session.commit()
    except JobSkipped:
        return None
    return run


def operations_job(name: str) -> str:
    """The RQ entry point (the page's "run now"): a skip is an outcome, not a failure."""
    run = run_operations_job(name)
    return run.summary if run else "skipped: another operations job was running"


def enqueue_operations_job(name: str) -> Job:
    """Queue ``name`` to run now; a click while it waits or runs returns the same job."""
    job = OPERATIONS_JOBS[name]
    return enqueue(
        "portal.operations.jobs.operations_job",
        name,
        job_id=f"manual_{name}",
        queue=job.queue,
        job_timeout=job.timeout,
        description=f"run now: {name}",
        meta={"operations": name},
    )


def archive_orders_job() -> str:
    """The scheduled archive: monthly slots, acting in the months ``ORDER_ARCHIVE_MONTHS`` lists
    (the quarter's first month by default: the quarterly archive)."""
    if clock.today().month not in current_app.config["ORDER_ARCHIVE_MONTHS"]:
        return "not an archive month"
    return operations_job("archive-orders")


def aggregate_commissions_job() -> str:
    return operations_job("aggregate-commissions")


def analyze_job() -> str:
    return operations_job("analyze")


def vacuum_job() -> str:
    return operations_job("vacuum")


def reindex_job() -> str:
    return operations_job(maintenance.REINDEX_JOB)


def prune_mail_folder_job() -> str:
    return operations_job("prune-mail-folder")
