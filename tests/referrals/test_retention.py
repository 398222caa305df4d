"""Retention: old unconverted visits go, a batch per transaction; statistics stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.referrals import retention
from portal.referrals import services as referrals
from portal.referrals.models import ShopReferral
from portal.scheduling import periodic_jobs
from tests.orders.helpers import established_shop, now
from tests.referrals.helpers import stats, visits


@pytest.fixture
def shop(db_session):
    return established_shop()


def visit(shop, n: int, days_ago: float, *, converted: bool = False):
    at = now() - timedelta(days=days_ago)
    referrals.record_visit(shop.referral_code, f"visitor-{n:04d}", referrals.Utm("src"), at=at)
    if converted:
        db.session.execute(
            sa.update(ShopReferral)
            .where(ShopReferral.session_id == f"visitor-{n:04d}")
            .values(converted_at=at + timedelta(days=1))
        )


def test_unconverted_visits_past_the_cutoff_go_in_batches_each_committed(app, shop):
    for n in range(5):
        visit(shop, n, days_ago=91 + n)
    visit(shop, 10, days_ago=120, converted=True)
    visit(shop, 11, days_ago=89)
    visits_counted = sum(s.visits for s in stats(shop))

    deletes = []

    def listener(conn, cursor, statement, *args):
        if "DELETE FROM shop_referrals" in statement:
            deletes.append(conn.in_transaction())

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert retention.delete_old_visits(batch=2) == 5
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert len(deletes) == 3  # 2 + 2 + 1: a statement per batch, each committed on its own
    assert sorted(r.session_id for r in visits(shop)) == ["visitor-0010", "visitor-0011"]
    assert sum(s.visits for s in stats(shop)) == visits_counted == 7


def test_the_cutoff_and_batch_size_are_configuration(app, shop):
    visit(shop, 1, days_ago=40)
    visit(shop, 2, days_ago=20)
    app.config["REFERRAL_RETENTION_DAYS"] = 30
    try:
        assert retention.delete_old_visits() == 1
    finally:
        app.config["REFERRAL_RETENTION_DAYS"] = 90
    assert [r.session_id for r in visits(shop)] == ["visitor-0002"]


def test_nothing_to_delete_is_one_empty_batch(app, shop):
    visit(shop, 1, days_ago=1)
    assert retention.delete_old_visits(batch=1) == 0
    assert len(visits(shop)) == 1


def test_the_job_is_nightly(app):
    with app.app_context():
        jobs = {job.name: job for job in periodic_jobs(app)}
    job = jobs["prune-referral-visits"]
    assert job.every == "daily" and job.func_path.endswith("retention.delete_old_visits_job")
