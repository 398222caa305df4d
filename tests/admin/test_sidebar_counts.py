"""The admin sidebar's counts that ask for action (portal/admin/counts.py), over HTTP: what each
counts, that it is bounded (a capped count on an index, a short cache, a Redis ZCOUNT), that the
pages load them after themselves, and that each role sees only its own."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from portal.admin import counts
from portal.deliveries.models import Driver
from portal.extensions import db
from portal.orders import services as orders
from portal.queues import get_queue, get_redis
from portal.vendors.services import vendor_for_user
from tests.factories import MAKERS, make_admin, make_driver, make_vendor
from tests.vendors.test_query_counts import statements

COUNT_URLS = [f"/admin/counts/{name}" for name in counts.COUNTS]


@pytest.fixture(autouse=True)
def _no_kept_counts_or_failures(app):
    """Redis outlives the test's transaction: no kept count or failed job crosses tests."""

    def clean():
        redis = get_redis(app)
        for key in redis.scan_iter(f"{app.config['RQ_KEY_PREFIX']}:admin-count:*"):
            redis.delete(key)
        for name in app.config["RQ_QUEUES"]:
            queue = get_queue(name, app)
            registry = FailedJobRegistry(queue=queue)
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)

    clean()
    yield
    clean()


@pytest.fixture
def admin(db_session, auth):
    user = make_admin()
    auth.login(user.email)
    return user


def paid_orders(n: int):
    shop = vendor_for_user(make_vendor())
    for _ in range(n):
        order = orders.place_order(
            vendor_id=shop.id,
            items=[orders.LineItem(title="Tea", quantity=1, unit_price=Decimal("4.00"))],
        )
        orders.mark_paid(order)
    db.session.flush()


def shown(client, name: str) -> str:
    response = client.get(f"/admin/counts/{name}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True).strip()


def fail_a_job(app, description: str = "portal.tiers.jobs.run_month_close(2026, 1)"):
    queue = get_queue("default", app)
    job = queue.enqueue("portal.queues.get_redis", description=description)
    queue.remove(job)
    FailedJobRegistry(queue=queue).add(job, ttl=600, exc_string="ValueError: boom")
    return job


def test_the_sidebar_loads_each_count_after_the_page(client, admin):
    paid_orders(2)
    with statements() as sent:
        page = client.get("/admin/vendors/").get_data(as_text=True)
    for url in COUNT_URLS:
        assert f'hx-get="{url}"' in page  # a fragment the sidebar asks for after the page
    assert 'hx-trigger="load, every 60s' in page
    # ... so the page itself neither counts orders waiting nor drivers.
    assert not any(
        "FROM drivers" in s or "order_holds" in s or "paid_at IS NOT NULL" in s for s in sent
    )
    assert "orders waiting" not in page.split('id="content"')[0].replace(">Orders waiting<", "")


def test_orders_waiting_counts_what_its_page_lists(client, admin):
    assert shown(client, "orders-waiting") == ""  # nothing waits: no badge
    paid_orders(2)
    orders.place_order(  # never paid: not waiting
        vendor_id=vendor_for_user(make_vendor()).id,
        items=[orders.LineItem(title="Tea", quantity=1, unit_price=Decimal("4.00"))],
    )
    db.session.flush()
    assert shown(client, "orders-waiting") == (
        '<mark class="new-orders" aria-label="2 orders waiting">2</mark>'
    )
    assert "2 orders ·" in client.get("/admin/orders/waiting").get_data(as_text=True)


def test_the_orders_count_stops_at_its_cap_on_the_partial_index(admin):
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        counts.orders_waiting()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    ((statement, parameters),) = [(s, p) for s, p in sent if "FROM orders" in s]
    assert "LIMIT" in statement and counts.CAP + 1 in parameters.values()
    # The partial index of paid, uncompleted orders serves the very statement the sidebar sends
    # (sequential scans off: the planner would rather scan tables as small as a test's).
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
    # (each partition's copy of idx_orders_awaiting_completion is named after its partition)
    assert any("Index" in line and "paid_at_idx" in line for line in plan), plan
    assert not any("Seq Scan" in line for line in plan), plan


@pytest.mark.parametrize(("value", "label"), [(1, "1"), (99, "99"), (100, "99+"), (5000, "99+")])
def test_a_count_above_the_cap_says_99_plus(value, label):
    assert counts.NavCount(value, "orders waiting").label == label


def test_drivers_to_verify_are_counted_and_kept_a_short_while(client, admin):
    make_driver()
    make_driver()
    verified = make_driver()
    profile = db.session.scalar(sa.select(Driver).where(Driver.user_id == verified.id))
    profile.insurance_verified, profile.background_check_status = True, "clear"
    db.session.flush()
    assert "2 drivers to verify" in shown(client, "drivers-to-verify")

    make_driver()
    db.session.flush()
    # Kept in Redis for ADMIN_COUNT_CACHE_SECONDS: the new applicant shows at the next count.
    assert "2 drivers to verify" in shown(client, "drivers-to-verify")
    get_redis().delete("portal-test:admin-count:drivers-to-verify")
    assert "3 drivers to verify" in shown(client, "drivers-to-verify")

    page = client.get("/admin/drivers/").get_data(as_text=True)
    assert page.count('badge-warning">not verified<') == 3 and "3 drivers ·" in page


def test_failed_jobs_are_counted_and_listed_on_the_operations_page(app, client, admin):
    assert shown(client, "failed-jobs") == ""
    fail_a_job(app)
    assert "1 failed job" in shown(client, "failed-jobs")
    operations = client.get("/admin/operations").get_data(as_text=True)
    assert "1 failed job now" in operations
    assert "portal.tiers.jobs.run_month_close(2026, 1)" in operations
    assert "boom" not in operations  # the traceback stays in the worker's log
    overview = client.get("/admin/").get_data(as_text=True)
    assert "1 background job has failed." in overview


def test_unknown_counts_are_404(client, admin):
    assert client.get("/admin/counts/everything").status_code == 404


@pytest.mark.parametrize("role", ["vendor", "driver", "customer"])
def test_each_role_sees_only_its_own_counts(client, auth, db_session, role):
    user = MAKERS[role]()
    auth.login(user.email)
    home = {"vendor": "/vendor/", "driver": "/driver/", "customer": "/account/"}[role]
    page = client.get(home).get_data(as_text=True)
    assert "/admin/counts/" not in page
    assert ("/vendor/orders/badge" in page) == (role == "vendor")
    for url in COUNT_URLS:
        assert client.get(url).status_code == 403


def test_the_admin_sees_no_vendor_badge(client, admin):
    page = client.get("/admin/").get_data(as_text=True)
    assert "/vendor/orders/badge" not in page
    assert len(re.findall(r'hx-get="/admin/counts/', page)) == len(counts.COUNTS)
