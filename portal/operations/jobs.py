"""Background jobs of operations. They run inside the app context the RQ worker provides."""

from __future__ import annotations

from datetime import date

from ..extensions import db
from .partitions import create_partition, planned_periods
from .requeue import requeue_lost_jobs


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
