"""The admin's payout pages: runs, a run's vendors, starting a run, retrying a failed payout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rq.job import Job

from portal.admin.models import AuditEvent
from portal.extensions import db
from portal.payouts import runs
from portal.payouts.models import PayoutRun
from portal.queues import get_redis
from tests.factories import MAKERS
from tests.payouts.helpers import failed_after_drop, payable_shop, payouts_of


def test_starting_a_run_queues_its_job_writes_the_audit_row_and_shows_its_progress(client, admin):
    assert "No payout run yet." in client.get("/admin/payouts/").get_data(as_text=True)
    response = client.post("/admin/payouts/runs")
    assert response.status_code == 303
    run = db.session.scalar(sa.select(PayoutRun))
    assert response.headers["Location"].endswith(f"/admin/payouts/runs/{run.id}")
    assert (run.trigger, run.started_by_id, run.status) == ("admin", admin.id, "running")
    [audit] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "payout_run.started")
    )
    assert audit.actor_id == admin.id and audit.subject_id == str(run.id)
    job = Job.fetch(f"payout-run-{run.id}", connection=get_redis())
    assert job.args == (str(run.id),)
    job.cancel()
    job.delete()

    page = client.get(f"/admin/payouts/runs/{run.id}").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in page  # running: the page polls its progress
    assert f"/admin/payouts/runs/{run.id}/progress" in page
    listing = client.get("/admin/payouts/").get_data(as_text=True)
    assert "A run is in progress" in listing


def test_a_finished_run_lists_payouts_and_holds_and_stops_polling(client, admin, app_stripe):
    from tests.orders.helpers import established_shop
    from tests.payouts.helpers import settled_order

    paid = payable_shop(app_stripe)
    held = established_shop()
    settled_order(held)
    run = runs.run_payouts()

    progress = client.get(f"/admin/payouts/runs/{run.id}/progress").get_data(as_text=True)
    assert "every 2s" not in progress  # finished: the last poll
    assert paid.name in progress and payouts_of(paid)[0].stripe_transfer_id in progress
    assert "has not set up payouts with Stripe yet" in progress  # the held vendor's reason
    detail = client.get(f"/admin/payouts/runs/{run.id}").get_data(as_text=True)
    assert "Held" in detail and held.name in detail


def test_an_admin_retries_a_failed_payout_from_the_sidebar_count(client, admin, app_stripe):
    shop = payable_shop(app_stripe)
    payout = failed_after_drop(shop, app_stripe)
    assert "1 failed payout" in client.get("/admin/counts/failed-payouts").get_data(as_text=True)
    listing = client.get("/admin/payouts/").get_data(as_text=True)
    assert "Failed payouts" in listing and f"/admin/payouts/{payout.id}/retry" in listing

    response = client.post(f"/admin/payouts/{payout.id}/retry")
    assert response.status_code == 303
    db.session.expire_all()
    assert payout.status == "paid" and len(app_stripe.transfer_log()) == 1
    assert (
        db.session.scalar(
            sa.select(AuditEvent.actor_id).where(AuditEvent.action == "payout.retried")
        )
        == admin.id
    )
    again = client.post(f"/admin/payouts/{payout.id}/retry", follow_redirects=True)
    assert "Only a failed payout can be retried" in again.get_data(as_text=True)
    assert (
        client.post("/admin/payouts/00000000-0000-0000-0000-000000000000/retry").status_code == 404
    )
    assert client.get("/admin/payouts/runs/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize("role", ["vendor", "driver", "customer"])
def test_only_admins_see_or_act_on_payouts(client, auth, db_session, role):
    user = MAKERS[role]()
    auth.login(user.email)
    run = runs.start_run(trigger="schedule")
    db.session.flush()
    for path in ("/admin/payouts/", f"/admin/payouts/runs/{run.id}"):
        assert client.get(path).status_code in (403, 404)
    assert client.post("/admin/payouts/runs").status_code in (403, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PayoutRun)) == 1


def test_a_guest_is_sent_to_sign_in(client, db_session):
    assert client.get("/admin/payouts/").status_code == 302
    assert client.post("/admin/payouts/runs").status_code in (302, 400, 403)
