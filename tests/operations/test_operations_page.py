"""The operations page: admins only; its jobs, partitions, queues and failed jobs; run now, the
polled row, retry and delete of a failed job."""

from __future__ import annotations

import pytest
from rq.job import Job

from portal.extensions import db
from portal.operations.models import JobRun
from portal.queues import get_queue, get_redis
from tests.factories import MAKERS, make_admin
from tests.mailbox import _AppSimpleWorker

PAGE = "/admin/operations"


@pytest.fixture
def admin(client, auth):
    user = make_admin()
    auth.login(user.email)
    return user


@pytest.fixture
def clean_queues(app):
    with app.app_context():
        get_redis().flushdb()
    yield
    with app.app_context():
        get_redis().flushdb()


@pytest.mark.parametrize("role", ["customer", "vendor", "driver"])
def test_other_roles_are_refused_the_page_and_its_actions(client, auth, role):
    auth.login(MAKERS[role]().email)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/jobs/analyze").status_code == 403
    assert client.post(f"{PAGE}/jobs/analyze/run").status_code == 403
    assert client.post(f"{PAGE}/failed/default/x/retry").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.post(f"{PAGE}/jobs/analyze/run")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_lists_every_scheduled_job_partitions_and_queues(client, admin, clean_queues):
    db.session.add(
        JobRun(
            job_name="vacuum",
            started_at=__import__("portal.clock", fromlist=["utcnow"]).utcnow(),
            outcome="running",
            progress='VACUUM (ANALYZE) "orders_2026_12" (1 of 3)',
        )
    )
    db.session.flush()

    html = client.get(PAGE).get_data(as_text=True)

    for name in (
        "analyze",
        "vacuum",
        "reindex",
        "archive-orders",
        "aggregate-commissions",
        "ensure-partitions",
        "prune-referral-visits",
        "prune-positions",
    ):
        assert f'id="job-{name}"' in html
    assert "Sundays at 03:00 UTC" in html  # vacuum's schedule
    assert "VACUUM (ANALYZE) &#34;orders_2026_12&#34; (1 of 3)" in html
    # The running job's row polls itself; a finished one does not.
    assert 'hx-get="/admin/operations/jobs/vacuum" hx-trigger="every 2s"' in html
    assert 'hx-get="/admin/operations/jobs/analyze"' not in html
    assert "commission_records_default" in html and "points_transactions_default" in html
    assert 'id="queues"' in html


def test_rows_in_a_default_partition_are_highlighted(client, admin, clean_queues):
    from datetime import UTC, datetime
    from decimal import Decimal

    from portal.orders import services as orders
    from portal.vendors.services import vendor_for_user
    from tests.factories import make_vendor

    vendor = vendor_for_user(make_vendor())
    orders.place_order(
        vendor_id=vendor.id,
        items=[orders.LineItem(title="Far", quantity=1, unit_price=Decimal("3.00"))],
        placed_at=datetime(2077, 4, 2, tzinfo=UTC),
    )
    db.session.flush()

    html = client.get(PAGE).get_data(as_text=True)

    assert 'data-attention="default-rows"' in html
    assert "1 in the default" in html


def test_run_now_queues_the_job_once_and_returns_its_polling_row(client, admin, clean_queues):
    response = client.post(f"{PAGE}/jobs/analyze/run", headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="job-analyze"' in html and 'data-outcome="queued"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "toast" in response.headers["HX-Trigger"]
    client.post(f"{PAGE}/jobs/analyze/run", headers={"HX-Request": "true"})
    assert get_queue("low").count == 1  # a second click while it waits adds nothing


def test_run_now_of_an_unknown_job_is_a_404(client, admin, clean_queues):
    response = client.post(f"{PAGE}/jobs/no-such-job/run")
    assert response.status_code == 404


def test_run_now_without_csrf_is_refused(client, admin, clean_queues):
    assert client.post(f"{PAGE}/jobs/analyze/run", csrf=False).status_code == 400


def failing_job():
    raise ValueError("the archive disk is full")


def test_a_failed_job_shows_its_traceback_and_can_be_retried_or_deleted(
    app, client, admin, clean_queues, restore_signals
):
    # Enqueued without retries and run by a real (in-process) worker: a real failure.
    job = get_queue("default").enqueue(failing_job)
    _AppSimpleWorker([job.origin], app=app).work(burst=True)

    html = client.get(PAGE).get_data(as_text=True)
    assert "ValueError: the archive disk is full" in html
    assert 'class="traceback"' in html

    retried = client.post(f"{PAGE}/failed/default/{job.id}/retry", headers={"HX-Request": "true"})
    assert retried.status_code == 200
    assert job.id in get_queue("default").job_ids
    assert "ValueError" not in retried.get_data(as_text=True)

    _AppSimpleWorker([job.origin], app=app).work(burst=True)
    deleted = client.post(f"{PAGE}/failed/default/{job.id}/delete")
    assert deleted.status_code == 302
    assert not Job.exists(job.id, connection=get_redis())
    assert client.post(f"{PAGE}/failed/default/{job.id}/delete").status_code == 404
    assert client.post(f"{PAGE}/failed/nowhere/{job.id}/retry").status_code == 404
