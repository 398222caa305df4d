"""The periodic-job scheduler and the queue helpers, against the real Redis (test key prefix)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask import current_app
from rq.job import JobStatus

from portal import queues, scheduling
from portal.scheduling import PeriodicJob, due_jobs, period_key, tick


def report_prefix(suffix: str) -> str:
    """A job for the worker test: proves it runs inside the app context."""
    return f"{current_app.config['RQ_KEY_PREFIX']}:{suffix}"


def noop() -> None:
    """A job that is only ever enqueued, never run, by these tests."""


def dotted(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


HOURLY = PeriodicJob("hourly", "x.y", every="hourly", minute=15)
DAILY = PeriodicJob("nightly", "x.y", every="daily", hour=1)
WEDNESDAYS = PeriodicJob("weekly", "x.y", every="weekly", weekday=2, hour=6)
MONTHLY = PeriodicJob("monthly", "x.y", every="monthly", day=25, hour=3)
MONTH_END = PeriodicJob("month-end", "x.y", every="monthly", day=31)


def _wipe(app) -> None:
    redis = queues.get_redis(app)
    for key in redis.scan_iter(f"{app.config['RQ_KEY_PREFIX']}:periodic:*"):
        redis.delete(key)
    for queue in queues.get_queues(app):
        queue.empty()
        for registry in (
            queue.started_job_registry,
            queue.finished_job_registry,
            queue.failed_job_registry,
            queue.scheduled_job_registry,
            queue.deferred_job_registry,
            queue.canceled_job_registry,
        ):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)


@pytest.fixture
def jobs_app(app, monkeypatch):
    """The app with a test registry of periodic jobs, in a context, on clean test queues."""
    assert app.config["RQ_KEY_PREFIX"] == "portal-test"  # never touch the development queues
    monkeypatch.setitem(
        app.config,
        "PERIODIC_JOBS",
        [PeriodicJob("test-nightly", dotted(noop), every="daily", hour=1, queue="low")],
    )
    _wipe(app)
    with app.app_context():
        yield app
    _wipe(app)


@pytest.mark.parametrize(
    ("job", "moment", "slot"),
    [
        (PeriodicJob("m", "x.y", every="minutely"), "2026-11-25T13:40:59", "2026-11-25T1340"),
        (HOURLY, "2026-11-25T13:40:00", "2026-11-25T13"),
        (DAILY, "2026-11-25T00:30:00", "2026-11-25"),
        (DAILY, "2026-11-25T23:59:59", "2026-11-25"),
        (PeriodicJob("w", "x.y", every="weekly", weekday=0), "2026-11-25T10:00:00", "2026-W48"),
        (PeriodicJob("w", "x.y", every="weekly"), "2027-01-01T10:00:00", "2026-W53"),
        (PeriodicJob("m", "x.y", every="monthly", day=5), "2026-11-25T10:00:00", "2026-11"),
    ],
)
def test_period_key_for_each_cadence(job, moment, slot):
    assert period_key(job, at(moment)) == slot


def test_period_key_converts_other_time_zones_to_utc():
    from datetime import timedelta, timezone

    evening_in_new_york = datetime(2026, 11, 25, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert period_key(DAILY, evening_in_new_york) == "2026-11-26"


@pytest.mark.parametrize(
    ("job", "before", "after"),
    [
        (HOURLY, "2026-11-25T13:14", "2026-11-25T13:15"),
        (DAILY, "2026-11-25T00:59", "2026-11-25T01:00"),
        # Wednesday 2026-11-25; weekday 2 is Wednesday.
        (WEDNESDAYS, "2026-11-25T05:59", "2026-11-25T06:00"),
        (MONTHLY, "2026-11-25T02:59", "2026-11-25T03:00"),
        # Day 31 in February means the last day of February.
        (MONTH_END, "2026-02-27T23:59", "2026-02-28T00:00"),
    ],
)
def test_a_job_is_due_from_its_start_time(job, before, after):
    assert not scheduling.is_due(job, at(before))
    assert scheduling.is_due(job, at(after))


def test_periodic_job_rejects_bad_definitions():
    with pytest.raises(ValueError, match="every"):
        PeriodicJob("x", "x.y", every="fortnightly")
    with pytest.raises(ValueError, match="hour"):
        PeriodicJob("x", "x.y", every="daily", hour=24)
    with pytest.raises(ValueError, match="name"):
        PeriodicJob("Has_Underscore", "x.y", every="daily")


def test_the_default_registry_keeps_partitions_ahead_nightly(app, monkeypatch):
    monkeypatch.delitem(app.config, "PERIODIC_JOBS", raising=False)
    [job] = [j for j in scheduling.periodic_jobs(app) if j.name == "ensure-partitions"]
    assert job.func_path == "portal.operations.jobs.ensure_partitions_job"
    assert (job.every, job.hour, job.minute) == ("daily", 1, 0)


def test_config_adjusts_disables_and_adds_jobs(app, monkeypatch):
    monkeypatch.setitem(
        app.config,
        "PERIODIC_JOBS",
        {
            "ensure-partitions": {"hour": 3},
            "weekly-report": {"func_path": "a.b", "every": "weekly", "weekday": 4},
        },
    )
    jobs = {job.name: job for job in scheduling.periodic_jobs(app)}
    assert jobs["ensure-partitions"].hour == 3
    assert jobs["weekly-report"].weekday == 4

    monkeypatch.setitem(app.config, "PERIODIC_JOBS", {"ensure-partitions": None})
    names = {job.name for job in scheduling.periodic_jobs(app)}
    assert "ensure-partitions" not in names
    assert names == {job.name for job in scheduling.PERIODIC_JOBS} - {"ensure-partitions"}

    monkeypatch.setitem(app.config, "PERIODIC_JOBS", {"ensure-partitions": {"hours": 3}})
    with pytest.raises(ValueError, match="unknown fields"):
        scheduling.periodic_jobs(app)


def test_a_job_is_not_due_before_its_hour(jobs_app):
    assert due_jobs(at("2026-11-25T00:59:59")) == []
    assert tick(at("2026-11-25T00:59:59")) == []
    assert queues.get_queue("low").count == 0


def test_tick_enqueues_once_per_slot(jobs_app):
    low = queues.get_queue("low")

    first = tick(at("2026-11-25T01:00:30"))
    assert first == ["periodic_test-nightly_2026-11-25"]
    assert tick(at("2026-11-25T01:01:00")) == []
    assert tick(at("2026-11-25T23:00:00")) == []
    assert low.job_ids == first

    job = low.fetch_job(first[0])
    assert job.func_name == dotted(noop)
    assert job.meta == {"periodic": "test-nightly", "slot": "2026-11-25"}
    assert job.retries_left == 3


def test_the_next_slot_enqueues_again(jobs_app):
    tick(at("2026-11-25T01:00:00"))
    assert tick(at("2026-11-26T00:30:00")) == []  # tomorrow's slot has not started yet
    assert tick(at("2026-11-26T01:00:00")) == ["periodic_test-nightly_2026-11-26"]
    assert queues.get_queue("low").count == 2


def test_a_late_start_catches_up_on_the_current_slot(jobs_app):
    # Down at 01:00, back at 17:00: the first tick after start-up runs today's job.
    assert tick(at("2026-11-25T17:00:00")) == ["periodic_test-nightly_2026-11-25"]


def test_the_slot_marker_guards_other_schedulers_and_expires(jobs_app):
    job = scheduling.periodic_jobs()[0]
    marker = scheduling.marker_key(job, "2026-11-25")
    redis = queues.get_redis()

    tick(at("2026-11-25T01:00:00"))
    assert 0 < redis.ttl(marker) <= 2 * 24 * 3600
    # Another scheduler whose queue was emptied (say) still sees the slot as handled.
    queues.get_queue("low").empty()
    assert tick(at("2026-11-25T02:00:00")) == []


def test_a_queued_job_id_is_not_enqueued_twice_even_without_the_marker(jobs_app):
    job = scheduling.periodic_jobs()[0]
    tick(at("2026-11-25T01:00:00"))
    queues.get_redis().delete(scheduling.marker_key(job, "2026-11-25"))

    assert tick(at("2026-11-25T02:00:00")) == ["periodic_test-nightly_2026-11-25"]
    assert queues.get_queue("low").count == 1


def test_last_runs_records_each_enqueue(jobs_app):
    [row] = scheduling.last_runs()
    assert (row["name"], row["enqueued_at"], row["status"]) == ("test-nightly", None, None)

    tick(at("2026-11-25T01:00:05"))
    [row] = scheduling.last_runs()
    assert row["job_id"] == "periodic_test-nightly_2026-11-25"
    assert row["slot"] == "2026-11-25"
    assert row["enqueued_at"] == at("2026-11-25T01:00:05")
    assert row["status"] == JobStatus.QUEUED
    stored = queues.get_redis().hget(scheduling.last_runs_key(), "test-nightly")
    assert json.loads(stored)["job_id"] == row["job_id"]


def test_enqueue_with_the_same_id_while_queued_returns_the_queued_job(jobs_app):
    first = queues.enqueue(noop, job_id="test-dedupe", queue="high")
    second = queues.enqueue(dotted(noop), job_id="test-dedupe", queue="high")

    assert second.id == first.id
    assert queues.get_queue("high").count == 1
    assert first.origin == "portal-test-high"


def test_enqueue_rejects_an_unknown_queue(jobs_app):
    with pytest.raises(ValueError, match="unknown queue"):
        queues.enqueue(noop, queue="urgent")


def test_the_worker_runs_jobs_inside_the_app_context(jobs_app, restore_signals):
    job = queues.enqueue(report_prefix, "ok", job_id="test-app-context", queue="default")

    worker = queues.make_worker(jobs_app)
    assert [q.name for q in worker.queues] == [
        "portal-test-high",
        "portal-test-default",
        "portal-test-low",
    ]
    assert worker.work(burst=True)

    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    assert job.return_value() == "portal-test:ok"

    # Finished, so the same id may run again.
    again = queues.enqueue(report_prefix, "again", job_id="test-app-context", queue="default")
    assert again.get_status() == JobStatus.QUEUED
    assert queues.get_queue("default").count == 1
