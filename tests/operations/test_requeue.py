"""A job row committed as queued whose RQ job never reached Redis is enqueued again.

The rows are made by the features' own services and committed (to the test transaction) without
their enqueue call, which is what a Redis outage between the commit and the enqueue leaves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from rq.job import Job, JobStatus

from portal import queues, scheduling
from portal.catalog.imports import create_import
from portal.extensions import db
from portal.operations.jobs import requeue_lost_jobs_job
from portal.operations.requeue import requeue_lost_jobs
from portal.tiers.close import request_month_close
from portal.tiers.jobs import enqueue_month_close
from portal.tiers.models import MonthClose
from tests.catalog.helpers import HEADER, shop
from tests.database import empty_all_tables

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def clear_queues() -> None:
    redis = queues.get_redis()
    for queue in queues.get_queues():
        queue.empty()
        for registry in (queue.finished_job_registry, queue.failed_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
    for key in redis.scan_iter("portal-test:requeue:*"):
        redis.delete(key)


@pytest.fixture
def no_grace(app, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUED_JOB_GRACE_SECONDS", 0)


@pytest.fixture
def clean_queues(app):
    with app.app_context():
        clear_queues()
        yield
        clear_queues()


@pytest.fixture
def lost_jobs(db_session, clean_queues):
    """A month close and a product import, committed as queued, never enqueued."""
    close = request_month_close(2026, 10, now=NOW)
    _owner, vendor = shop(shop_name="Lost Jobs")
    product_import = create_import(
        vendor, f"{HEADER}\nL1,Lamp,,,,,9.99,1,active,\n".encode(), filename="p.csv", rows=1
    )
    db.session.commit()
    assert not Job.exists(close.job_id, connection=queues.get_redis())
    return close, product_import


def test_the_reconcile_enqueues_both_under_their_own_job_ids(lost_jobs, no_grace):
    _close, product_import = lost_jobs

    requeued = requeue_lost_jobs(NOW)

    assert sorted(requeued) == sorted(
        ["month-close-2026-10", f"product-import-{product_import.id}"]
    )
    redis = queues.get_redis()
    close_job = Job.fetch("month-close-2026-10", connection=redis)
    assert close_job.func_name == "portal.tiers.jobs.close_month_job"
    assert close_job.args == (2026, 10)
    import_job = Job.fetch(product_import.job_id, connection=redis)
    assert import_job.func_name == "portal.catalog.jobs.run_product_import"
    assert import_job.args == (str(product_import.id),)
    assert queues.get_queue("default").count == 2


def test_a_second_run_adds_no_second_job(lost_jobs, no_grace):
    requeue_lost_jobs(NOW)

    assert requeue_lost_jobs(NOW + timedelta(minutes=1)) == []
    assert queues.get_queue("default").count == 2


def test_a_row_whose_job_is_on_the_queue_is_left_alone(lost_jobs, no_grace):
    close, product_import = lost_jobs
    enqueue_month_close(close)

    assert requeue_lost_jobs(NOW) == [product_import.job_id]
    assert queues.get_queue("default").count == 2


def test_rows_that_are_not_queued_are_not_touched(lost_jobs, no_grace):
    close, product_import = lost_jobs
    close.status = "failed"
    product_import.status = "done"
    db.session.commit()

    assert requeue_lost_jobs(NOW) == []
    assert queues.get_queue("default").count == 0


def test_a_just_committed_row_gets_the_grace_period_first(lost_jobs, app, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUED_JOB_GRACE_SECONDS", 60)

    assert requeue_lost_jobs(NOW) == []  # first seen missing: its request may enqueue it yet
    assert requeue_lost_jobs(NOW + timedelta(seconds=59)) == []
    assert len(requeue_lost_jobs(NOW + timedelta(seconds=60))) == 2
    assert queues.get_queue("default").count == 2


def test_the_scheduler_runs_the_reconcile_every_minute(app, monkeypatch):
    monkeypatch.delitem(app.config, "PERIODIC_JOBS", raising=False)
    [job] = [j for j in scheduling.periodic_jobs(app) if j.name == "requeue-lost-jobs"]
    assert job.func_path == "portal.operations.jobs.requeue_lost_jobs_job"
    assert job.every == "minutely"
    assert scheduling.is_due(job, NOW)
    assert scheduling.period_key(job, NOW + timedelta(seconds=59)) == "2026-12-02T0600"
    assert scheduling.period_key(job, NOW + timedelta(seconds=60)) == "2026-12-02T0601"


@pytest.fixture
def committed_app(app, clean_queues):
    with app.app_context():
        yield app
        db.session.rollback()
        empty_all_tables()


def test_a_lost_close_reaches_the_worker_and_finishes(committed_app, no_grace, restore_signals):
    today = datetime.now(UTC)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    request_month_close(year, month)
    db.session.commit()  # and Redis "was down": no enqueue

    assert requeue_lost_jobs_job() == [f"month-close-{year:04d}-{month:02d}"]
    assert queues.make_worker(committed_app, queues=["default"]).work(burst=True)

    db.session.expire_all()
    close = db.session.scalars(
        sa.select(MonthClose).where(MonthClose.year == year, MonthClose.month == month)
    ).one()
    assert (close.status, close.runs) == ("done", 1)
    assert requeue_lost_jobs_job() == []
    assert Job.fetch(close.job_id, connection=queues.get_redis()).get_status() == (
        JobStatus.FINISHED
    )
