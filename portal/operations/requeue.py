"""Jobs committed as ``queued`` whose RQ job never reached Redis are put on the queue again.

A feature commits its job row (``status = 'queued'``, a deterministic ``job_id``) and only then
enqueues the RQ job. When Redis is down at that moment, or the enqueue fails after the commit, the
row would wait for ever. :func:`requeue_lost_jobs`, run every minute by the scheduler, finds such
rows and calls the feature's own enqueue function again. The job id is the row's, and ``enqueue``
returns a job of that id that is still queued or running instead of adding one, so a re-enqueue
never runs a job twice.

A row is re-enqueued only once its job has been missing for ``QUEUED_JOB_GRACE_SECONDS``
(measured from the first run that saw it missing, kept in Redis), so a request that committed a
moment ago and is about to enqueue is left to do it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from rq.job import Job

from ..catalog.jobs import enqueue_product_import
from ..catalog.models import ProductImport
from ..clock import utcnow
from ..extensions import db
from ..queues import get_redis
from ..tiers.jobs import enqueue_month_close
from ..tiers.models import MonthClose

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedJobKind:
    """A table of job rows: ``status`` ``'queued'`` until a job picks it up, and its ``job_id``."""

    name: str
    model: type[db.Model]
    enqueue: Callable[[db.Model], Job]  # the feature's own; called after a commit, as intended


QUEUED_JOB_KINDS: tuple[QueuedJobKind, ...] = (
    QueuedJobKind("month close", MonthClose, enqueue_month_close),
    QueuedJobKind("product import", ProductImport, enqueue_product_import),
)

#: How long a "first seen missing" mark lives: long past any grace period worth setting.
MISSING_MARK_TTL = 24 * 3600


def missing_mark_key(job_id: str) -> str:
    return f"{current_app.config['RQ_KEY_PREFIX']}:requeue:missing:{job_id}"


def requeue_lost_jobs(now: datetime | None = None) -> list[str]:
    """Enqueue again every queued job row whose RQ job is missing past the grace; its job ids."""
    now = now or utcnow()
    redis = get_redis()
    grace = current_app.config["QUEUED_JOB_GRACE_SECONDS"]
    requeued = []
    for kind in QUEUED_JOB_KINDS:
        rows = db.session.scalars(
            sa.select(kind.model).where(
                kind.model.status == "queued", kind.model.job_id.is_not(None)
            )
        ).all()
        for row in rows:
            key = missing_mark_key(row.job_id)
            if Job.exists(row.job_id, connection=redis):
                redis.delete(key)
                continue
            seen = redis.get(key)
            if seen is None:
                redis.set(key, now.timestamp(), ex=MISSING_MARK_TTL)
                seen = now.timestamp()
            if now.timestamp() - float(seen) < grace:
                continue
            kind.enqueue(row)
            redis.delete(key)
            logger.warning(
                "Re-enqueued the %s %s: its job had not reached Redis.", kind.name, row.id
            )
            requeued.append(row.job_id)
    return requeued
