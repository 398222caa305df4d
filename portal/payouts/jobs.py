"""The payout run's background job: weekly from the scheduler ("payout-run"), or an admin's run.

Re-running it is harmless: a run resumes where a killed worker stopped and never pays twice. A
scheduled job that finds the lock taken ends (the process sending covers the week); an admin's run
job raises, so RQ retries it, unless the process sending has run it meanwhile.
"""

from __future__ import annotations

import logging
import uuid

from ..queues import enqueue
from .runs import RunLocked, run_payouts

log = logging.getLogger(__name__)

#: A run of 10,000 vendors against Stripe takes minutes (docs/performance.md); ample room.
RUN_JOB_TIMEOUT = 2 * 60 * 60


def payout_run_job(run_id: str | None = None) -> str | None:
    """Finish any unfinished run, then the admin's ``run_id`` or a new scheduled run."""
    try:
        run = run_payouts(uuid.UUID(run_id) if run_id else None, trigger="schedule")
    except RunLocked:
        if run_id:
            # The process sending now runs it when it is done; should it have just finished,
            # RQ's retry of this job (10 s later) does.
            raise
        log.info("payout run job: another process is sending payouts; it covers this week")
        return None
    return str(run.id)


def enqueue_payout_run(run_id: uuid.UUID):
    """Queue an admin's run; call it after the commit that created the run row."""
    return enqueue(
        payout_run_job,
        str(run_id),
        job_id=f"payout-run-{run_id}",
        job_timeout=RUN_JOB_TIMEOUT,
        description=f"payout run {run_id}",
    )
