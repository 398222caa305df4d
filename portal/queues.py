"""Redis, RQ queues and the worker class that runs every job inside the Flask app context.

Queues are named by purpose (``high``, ``default``, ``low``, from ``RQ_QUEUES``) and prefixed with
``RQ_KEY_PREFIX``, so the test suite ("portal-test") never takes jobs off the development queues.
Jobs are enqueued only after the commit that creates the rows they read (see STYLE.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry, Worker
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus

from .extensions import db

log = logging.getLogger(__name__)

_REDIS_EXTENSION = "portal.redis"

#: How long a job may run before RQ kills it, unless the caller says otherwise.
DEFAULT_JOB_TIMEOUT = 10 * 60
#: Failed jobs stay visible (rq info, the admin page) for a week.
FAILURE_TTL = 7 * 24 * 3600
#: Results are kept for a day: jobs write what matters to the database, not to the result.
RESULT_TTL = 24 * 3600

#: A job in one of these states will still run, so the same id must not be enqueued again.
ACTIVE_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
)


def default_retry() -> Retry:
    """Three more tries, after 10 s, 1 min and 5 min (RQ's own scheduler re-enqueues them)."""
    return Retry(max=3, interval=[10, 60, 300])


def get_redis(app: Flask | None = None) -> Redis:
    """The app's Redis connection (a pooled client), created once per app."""
    app = app or current_app._get_current_object()
    client = app.extensions.get(_REDIS_EXTENSION)
    if client is None:
        client = Redis.from_url(app.config["REDIS_URL"])
        app.extensions[_REDIS_EXTENSION] = client
    return client


def queue_names(app: Flask | None = None) -> list[str]:
    """The prefixed names of every configured queue, highest priority first."""
    app = app or current_app._get_current_object()
    return [prefixed_queue_name(name, app) for name in app.config["RQ_QUEUES"]]


def prefixed_queue_name(name: str, app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    if name not in app.config["RQ_QUEUES"]:
        raise ValueError(f"unknown queue {name!r}; configured: {app.config['RQ_QUEUES']}")
    return f"{app.config['RQ_KEY_PREFIX']}-{name}"


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    """The RQ queue for a purpose name ("high", "default", "low")."""
    app = app or current_app._get_current_object()
    return Queue(prefixed_queue_name(name, app), connection=get_redis(app))


def get_queues(app: Flask | None = None) -> list[Queue]:
    app = app or current_app._get_current_object()
    return [get_queue(name, app) for name in app.config["RQ_QUEUES"]]


def enqueue(
    func: Callable[..., Any] | str,
    *args: Any,
    job_id: str | None = None,
    queue: str = "default",
    job_timeout: int = DEFAULT_JOB_TIMEOUT,
    retry: Retry | None = None,
    description: str | None = None,
    meta: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Job:
    """Enqueue ``func(*args, **kwargs)`` (a function or its dotted path) with retries.

    With a ``job_id`` (letters, digits, ``-`` and ``_`` only: RQ's rule), a job of that id that is
    still queued, scheduled for a retry, or running is returned instead of enqueueing a second
    one. A finished or failed job of that id is replaced, so a deliberate re-run works.
    """
    rq_queue = get_queue(queue)
    options: dict[str, Any] = {
        "args": args,
        "kwargs": kwargs,
        "timeout": job_timeout,
        "retry": retry or default_retry(),
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "description": description,
        "meta": meta,
    }
    if job_id is None:
        return rq_queue.enqueue_call(func, **options)

    existing = rq_queue.fetch_job(job_id)
    if existing is not None:
        if existing.get_status(refresh=False) in ACTIVE_STATUSES:
            return existing
        existing.delete()
    try:
        # ``unique`` checks and saves atomically (a Lua script), so two racing callers
        # still produce one job.
        return rq_queue.enqueue_call(func, job_id=job_id, unique=True, **options)
    except DuplicateJobError:
        return Job.fetch(job_id, connection=rq_queue.connection)


class AppWorker(Worker):
    """An RQ worker whose jobs run inside ``app.app_context()``.

    Each job runs in a forked work horse; the horse drops the database connections it inherited
    from the parent (they must not be shared across processes) before the job opens its own, and
    Flask-SQLAlchemy removes the session when the context ends.
    """

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        self.app = app
        kwargs.setdefault("connection", get_redis(app))
        super().__init__(*args, **kwargs)

    def perform_job(self, job: Job, queue: Queue) -> bool:
        with self.app.app_context():
            if getattr(self, "_is_horse", False):
                _dispose_inherited_engines()
            return super().perform_job(job, queue)


def _dispose_inherited_engines() -> None:
    from .extensions import db

    if "sqlalchemy" not in current_app.extensions:
        return
    for engine in db.engines.values():
        engine.dispose(close=False)


def make_worker(app: Flask, queues: list[str] | None = None, **kwargs: Any) -> AppWorker:
    """A worker on the configured queues, highest priority first (or on the given purposes)."""
    names = [prefixed_queue_name(q, app) for q in queues] if queues else queue_names(app)
    return AppWorker(names, app=app, **kwargs)


_AFTER_COMMIT = "portal.jobs_after_commit"


def enqueue_after_commit(func: Callable[..., Any] | str, *args: Any, **options: Any) -> None:
    """Enqueue ``func`` (as :func:`enqueue`) once the current transaction commits, so the job
    finds the rows this transaction wrote; a rollback drops it (STYLE.md)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so the commit (or rollback) that decides this job fires its event
    session.info.setdefault(_AFTER_COMMIT, []).append((func, args, options))


@sa.event.listens_for(db.session, "after_commit")
def _enqueue_waiting(session) -> None:
    for func, args, options in session.info.pop(_AFTER_COMMIT, []):
        try:
            enqueue(func, *args, **options)
        except Exception:  # the commit stands; the log says which job was not queued
            log.exception("could not queue %s%r", func, args)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _drop_waiting(session, previous_transaction) -> None:
    # Only the outermost transaction's rollback, as for mail (portal/mail.py).
    if previous_transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
