"""Jobs that failed, from RQ's failed job registries (one per queue; RQ keeps a failed job for
``queues.FAILURE_TTL``): how many, and the newest few for the operations page.

Read-only and cheap: a registry is a Redis sorted set scored by each job's expiry, so the live
failures are a ``ZCOUNT`` from now on (no cleanup writes), one round trip for every queue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from rq.job import Job
from rq.registry import FailedJobRegistry

from ..clock import as_utc
from ..queues import get_queues, get_redis


@dataclass(frozen=True)
class FailedJob:
    queue: str  # the purpose name ("default"), not the prefixed Redis name
    job_id: str
    description: str
    failed_at: datetime | None
    traceback: str = ""


def _registries() -> list[tuple[str, FailedJobRegistry]]:
    purposes = current_app.config["RQ_QUEUES"]
    return [
        (purpose, FailedJobRegistry(queue=queue))
        for purpose, queue in zip(purposes, get_queues(), strict=True)
    ]


def _traceback(job: Job) -> str:
    result = job.latest_result()
    return (result.exc_string if result is not None else None) or ""


def failed_job_count() -> int:
    """Failed jobs still kept, over every queue."""
    pipe = get_redis().pipeline(transaction=False)
    now = time.time()
    for _, registry in _registries():
        pipe.zcount(registry.key, now, "+inf")
    return sum(pipe.execute())


def recent_failed_jobs(limit: int = 10) -> list[FailedJob]:
    """The newest failures of every queue, newest first (at most ``limit``)."""
    redis = get_redis()
    found: list[FailedJob] = []
    for purpose, registry in _registries():
        members = redis.zrevrangebyscore(registry.key, "+inf", time.time(), 0, limit)
        ids = [registry.parse_job_id(member) for member in members]
        for job in Job.fetch_many(ids, connection=redis):
            if job is not None:
                ended = as_utc(job.ended_at) if job.ended_at else None
                found.append(
                    FailedJob(
                        purpose, job.id, job.description or job.func_name, ended, _traceback(job)
                    )
                )
    found.sort(key=lambda job: job.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return found[:limit]
