"""The payout run's job, its weekly schedule and ``flask payouts run``."""

from __future__ import annotations

import uuid

from portal import scheduling
from portal.extensions import db
from portal.payouts import runs
from portal.payouts.jobs import payout_run_job
from portal.payouts.models import PayoutRun
from tests.payouts.helpers import payable_shop, payouts_of


def test_the_weekly_payout_run_is_scheduled_and_its_schedule_is_configuration(app, monkeypatch):
    [job] = [job for job in scheduling.periodic_jobs(app) if job.name == "payout-run"]
    assert job.every == "weekly" and job.func_path == "portal.payouts.jobs.payout_run_job"
    monkeypatch.setitem(app.config, "PERIODIC_JOBS", {"payout-run": {"weekday": 4, "hour": 9}})
    [job] = [job for job in scheduling.periodic_jobs(app) if job.name == "payout-run"]
    assert (job.weekday, job.hour) == (4, 9)


def test_the_job_runs_an_admins_run_and_a_rerun_changes_nothing(db_session, app_stripe):
    shop = payable_shop(app_stripe)
    run = runs.start_run(trigger="admin")
    db.session.commit()
    assert payout_run_job(str(run.id)) == str(run.id)
    db.session.expire_all()
    assert run.status == "finished" and payouts_of(shop)[0].batch_id == run.id
    assert payout_run_job(str(run.id)) == str(run.id)  # the job retried: nothing more
    assert len(app_stripe.transfer_log()) == 1


def test_the_scheduled_job_makes_its_own_run(db_session, app_stripe):
    payable_shop(app_stripe)
    run = db.session.get(PayoutRun, uuid.UUID(payout_run_job()))
    assert run.trigger == "schedule" and run.status == "finished"


def test_flask_payouts_run(db_session, app_stripe, app):
    payable_shop(app_stripe)
    result = app.test_cli_runner().invoke(args=["payouts", "run"])
    assert result.exit_code == 0, result.output
    assert "finished" in result.output and "paid: 1 payouts" in result.output
    assert "1 records marked paid in 1 batches." in result.output  # the shell waits for it


def test_an_admins_run_job_that_finds_the_lock_taken_is_retried_not_dropped(
    db_session, app_stripe, app
):
    import pytest
    import sqlalchemy as sa

    payable_shop(app_stripe)
    run = runs.start_run(trigger="admin")
    db.session.commit()
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    with other.connect() as connection:
        connection.execute(sa.select(sa.func.pg_advisory_lock(runs.RUN_LOCK_KEY)))
        assert payout_run_job() is None  # the scheduled one: the sender covers the week
        with pytest.raises(runs.RunLocked):  # RQ retries the admin's
            payout_run_job(str(run.id))
    other.dispose()
    assert payout_run_job(str(run.id)) == str(run.id)
    db.session.expire_all()
    assert run.status == "finished"
