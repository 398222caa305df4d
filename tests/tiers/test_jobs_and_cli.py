"""The close as a job (scheduled or requested), from the shell, and as the page sees it run."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from rq.job import JobStatus

from portal import queues, scheduling
from portal.extensions import db
from portal.tiers import jobs
from portal.tiers.close import CommittedProgress, request_month_close
from portal.tiers.models import MonthClose
from portal.tiers.promotions import grant_promotional_tier
from tests.database import empty_all_tables
from tests.factories import make_admin
from tests.tiers.helpers import add_order, shop, tier_of, volume_of


def close_row(year: int, month: int) -> MonthClose:
    return db.session.scalars(
        sa.select(MonthClose)
        .where(MonthClose.year == year, MonthClose.month == month)
        .execution_options(populate_existing=True)
    ).one()


# --- jobs, in the test transaction ---------------------------------------------------------------


@freeze_time("2026-11-01 03:00:00")
def test_close_month_job_closes_and_records_the_result(db_session):
    vendor = shop()
    add_order(vendor, "5000.00")

    summary = jobs.close_month_job(2026, 10)

    assert summary["upgrades"] == 1
    assert tier_of(vendor).tier == "silver"
    close = close_row(2026, 10)
    assert (close.status, close.progress, close.runs) == ("done", 100, 1)


@freeze_time("2027-01-01 03:00:00")
def test_the_scheduled_close_closes_the_month_that_just_ended(db_session):
    vendor = shop()
    add_order(vendor, "42.00", created_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC))

    jobs.close_previous_month_job()

    assert volume_of(vendor, 2026, 12).total_sales == Decimal("42.00")
    assert close_row(2026, 12).status == "done"


def test_expire_promotions_job_ends_promotions_on_their_date(db_session):
    vendor = shop()
    with freeze_time("2026-11-25 10:00:00"):
        grant_promotional_tier(
            vendor.id,
            tier="gold",
            reason="launch",
            expires_at=datetime(2026, 12, 15, tzinfo=UTC),
            granted_by=make_admin(),
        )
    with freeze_time("2026-12-15 00:05:00"):
        assert jobs.expire_promotions_job() == 1
    assert tier_of(vendor).tier == "bronze"


def test_the_registry_schedules_the_close_monthly_and_the_expiry_daily(app, monkeypatch):
    monkeypatch.delitem(app.config, "PERIODIC_JOBS", raising=False)
    registry = {job.name: job for job in scheduling.periodic_jobs(app)}

    close = registry["close-previous-month"]
    assert close.func_path == "portal.tiers.jobs.close_previous_month_job"
    assert (close.every, close.day) == ("monthly", 1)
    expiry = registry["expire-promotions"]
    assert expiry.func_path == "portal.tiers.jobs.expire_promotions_job"
    assert expiry.every == "daily"


# --- the CLI -------------------------------------------------------------------------------------


@freeze_time("2026-11-01 03:00:00")
def test_cli_closes_a_month_and_prints_the_summary(app, db_session):
    vendor = shop()
    add_order(vendor, "20000.00")

    result = app.test_cli_runner().invoke(args=["money", "close-month", "2026-10"])

    assert result.exit_code == 0, result.output
    assert "Closed 2026-10 (run 1)." in result.output
    assert "upgrades: 1" in result.output
    assert tier_of(vendor).tier == "gold"


@pytest.mark.parametrize(
    ("month", "exit_code", "message"),
    [
        ("2026-13", 2, "is not a month; use YYYY-MM"),
        ("October", 2, "is not a month; use YYYY-MM"),
        ("2026-11", 1, "2026-11 has not finished yet"),
    ],
)
@freeze_time("2026-11-20 12:00:00")
def test_cli_explains_a_bad_or_unfinished_month(app, db_session, month, exit_code, message):
    result = app.test_cli_runner().invoke(args=["money", "close-month", month])

    assert result.exit_code == exit_code
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count(MonthClose.id))) == 0


# --- for real: committed transactions, a second connection, an RQ worker -------------------------


@pytest.fixture
def committed_app(app):
    """The app with real commits; every table is emptied and the test queue cleared afterwards."""
    with app.app_context():
        queue = queues.get_queue("default")
        queue.empty()
        yield app
        db.session.rollback()
        empty_all_tables()
        queue.empty()
        for job_id in (
            queue.finished_job_registry.get_job_ids() + queue.failed_job_registry.get_job_ids()
        ):
            queue.fetch_job(job_id).delete()


def test_the_page_sees_progress_while_the_data_stays_invisible_until_the_end(
    committed_app, monkeypatch
):
    vendor = shop()
    add_order(vendor, "7000.00")
    db.session.commit()
    seen = []

    class WatchedProgress(CommittedProgress):
        """After each step, look from another connection, as the polling page does."""

        def __call__(self, percent, step):
            super().__call__(percent, step)
            with db.engine.connect() as other:
                row = other.execute(
                    sa.text(
                        "SELECT status, progress FROM month_closes WHERE year = 2026 AND month = 10"
                    )
                ).one()
                volume_rows = other.scalar(
                    sa.text("SELECT count(*) FROM vendor_monthly_volumes WHERE vendor_id = :id"),
                    {"id": vendor.id},
                )
            seen.append((row.status, row.progress, volume_rows))

    monkeypatch.setattr(jobs, "CommittedProgress", WatchedProgress)
    jobs.close_month_job(2026, 10)

    assert [status for status, _, _ in seen] == ["running"] * len(seen)
    assert [progress for _, progress, _ in seen] == sorted(progress for _, progress, _ in seen)
    assert len(seen) >= 4
    assert {volume_rows for _, _, volume_rows in seen} == {0}  # nothing of the close is visible yet
    close = close_row(2026, 10)
    assert (close.status, close.progress) == ("done", 100)
    assert volume_of(vendor).total_sales == Decimal("7000.00")


def test_a_failed_job_keeps_the_failure_and_none_of_the_data(committed_app, monkeypatch):
    vendor = shop()
    add_order(vendor, "7000.00")
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("lost the database")

    monkeypatch.setattr("portal.tiers.close.update_monthly_sales", broken)
    with pytest.raises(RuntimeError):
        jobs.close_month_job(2026, 10)

    db.session.rollback()
    close = close_row(2026, 10)
    assert close.status == "failed"
    assert "unexpected error" in close.error and "lost the database" not in close.error
    assert volume_of(vendor) is None
    assert tier_of(vendor).tier == "bronze"


def test_a_requested_close_runs_on_the_worker(committed_app, restore_signals):
    # The worker runs on the real clock: close the month that ended last.
    today = datetime.now(UTC)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    vendor = shop()
    add_order(vendor, "20000.00", created_at=datetime(year, month, 15, tzinfo=UTC))
    admin = make_admin()
    close = request_month_close(year, month, requested_by=admin)
    db.session.commit()

    job = jobs.enqueue_month_close(close)
    assert job.id == f"month-close-{year:04d}-{month:02d}"
    assert queues.make_worker(committed_app, queues=["default"]).work(burst=True)

    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    close = close_row(year, month)
    assert (close.status, close.runs, close.requested_by_id) == ("done", 1, admin.id)
    assert tier_of(vendor).tier == "gold"
