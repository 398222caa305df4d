"""Runs of the retention and maintenance jobs: one at a time, each recorded in ``job_runs``.

:func:`recorded_run` wraps a job's body. It takes a session-level PostgreSQL advisory lock shared
by every operations job (``OPERATIONS_LOCK``), so a VACUUM never runs beside a REINDEX or the
archive's DETACH, on any machine; a run that finds the lock taken is recorded as ``skipped``.
The run's row and its progress are written on that same lock connection, in autocommit, so the
operations page sees "orders_2024_03: copying orders" while the job's own transaction is still
open, and a job that fails still records its failure.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..clock import utcnow
from ..extensions import db
from .models import JobRun

log = logging.getLogger(__name__)

#: The advisory lock key every operations job holds while it runs (any 64-bit number, fixed).
OPERATIONS_LOCK = 7_214_001_438


def real_engine() -> Engine:
    """The app's engine, even when the session is bound to one connection (the tests' rollback)."""
    bind = db.session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def autocommit_connection() -> Connection:
    """A connection of its own outside any transaction: VACUUM and ``... CONCURRENTLY`` need one."""
    return real_engine().connect().execution_options(isolation_level="AUTOCOMMIT")


class JobSkipped(Exception):
    """Another operations job holds the lock."""


@dataclass
class Run:
    """What a running job may say about itself: progress while it runs, a summary and detail."""

    connection: Connection
    run_id: int
    dry_run: bool
    summary: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def finish(self, outcome: str, summary: str) -> None:
        self.connection.execute(
            sa.update(JobRun)
            .where(JobRun.id == self.run_id)
            .values(
                outcome=outcome,
                ended_at=utcnow(),
                progress=None,
                summary=summary,
                detail=self.detail or None,
            )
        )

    def progress(self, text: str) -> None:
        log.info("%s", text)
        self.connection.execute(
            sa.update(JobRun).where(JobRun.id == self.run_id).values(progress=text[:255])
        )


def _current_rq_job_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None


@contextmanager
def recorded_run(job_name: str, *, dry_run: bool = False) -> Iterator[Run]:
    """Hold the operations lock and record the run; raises :class:`JobSkipped` if it is held.

    The body's exception is recorded (outcome ``failed``, the traceback's last lines as summary)
    and raised again, so RQ retries and lists the job as failed as for any other job.
    """
    connection = autocommit_connection()
    try:
        got = connection.scalar(sa.select(sa.func.pg_try_advisory_lock(OPERATIONS_LOCK)))
        started = utcnow()
        if not got:
            holder = connection.scalar(
                sa.select(JobRun.job_name)
                .where(JobRun.outcome == "running")
                .order_by(JobRun.started_at.desc())
                .limit(1)
            )
            connection.execute(
                sa.insert(JobRun).values(
                    job_name=job_name,
                    rq_job_id=_current_rq_job_id(),
                    started_at=started,
                    ended_at=started,
                    outcome="skipped",
                    dry_run=dry_run,
                    summary=f"Another operations job ({holder or 'unknown'}) was running.",
                )
            )
            raise JobSkipped(f"{job_name}: another operations job ({holder}) is running")
        try:
            # A run the worker lost (killed horse) left "running" behind: the lock proves it ended.
            connection.execute(
                sa.update(JobRun)
                .where(JobRun.outcome == "running")
                .values(outcome="failed", ended_at=started, summary="The run was interrupted.")
            )
            run_id = connection.scalar(
                sa.insert(JobRun)
                .values(
                    job_name=job_name,
                    rq_job_id=_current_rq_job_id(),
                    started_at=started,
                    dry_run=dry_run,
                    progress="starting",
                )
                .returning(JobRun.id)
            )
            run = Run(connection, run_id, dry_run)
            try:
                yield run
            except BaseException as error:
                db.session.rollback()
                lines = traceback.format_exception(error)
                run.finish("failed", "".join(lines[-3:])[-2000:])
                raise
            run.finish("succeeded", run.summary)
        finally:
            connection.scalar(sa.select(sa.func.pg_advisory_unlock(OPERATIONS_LOCK)))
    finally:
        connection.close()


def latest_runs(job_names: list[str]) -> dict[str, JobRun]:
    """The newest recorded run of each named job."""
    newest = (
        sa.select(JobRun)
        .where(JobRun.job_name.in_(job_names))
        .distinct(JobRun.job_name)
        .order_by(JobRun.job_name, JobRun.started_at.desc(), JobRun.id.desc())
    )
    return {run.job_name: run for run in db.session.scalars(newest)}


def last_detail(job_name: str) -> dict[str, Any]:
    """The detail of the newest succeeded run of ``job_name`` (the REINDEX job's index sizes)."""
    return (
        db.session.scalar(
            sa.select(JobRun.detail)
            .where(JobRun.job_name == job_name, JobRun.outcome == "succeeded")
            .where(JobRun.dry_run.is_(False))
            .order_by(JobRun.started_at.desc())
            .limit(1)
        )
        or {}
    )
