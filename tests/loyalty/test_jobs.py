"""The nightly points job and the hold release: what they write; a replay writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.utils import import_string

from portal import scheduling
from portal.clock import utcnow
from portal.extensions import db
from portal.loyalty import jobs, points
from portal.loyalty.models import PointsHold, PointsPendingEarn, PointsTransaction
from tests.database import empty_all_tables
from tests.loyalty.helpers import admin, customer, place, shop


@pytest.fixture
def committed_world(app):
    with app.app_context():
        yield db.session
    with app.app_context():
        empty_all_tables()


def ledger(session):
    return sorted(
        (row.customer_id, row.type, row.amount, row.balance_after)
        for row in session.scalars(sa.select(PointsTransaction))
    )


def test_nightly_job_settles_and_expires_once(app, committed_world):
    from portal.orders import services as orders

    session = committed_world
    vendor, buyer, other, boss = shop(), customer(), customer(), admin()
    now = utcnow()
    # Credits from 13 months ago: their 12 months are up; a debit took part of one of them.
    points.adjust(buyer.id, 300, "old goodwill", actor=boss, at=now - timedelta(days=400))
    points.adjust(buyer.id, -100, "taken", actor=boss, at=now - timedelta(days=390))
    points.adjust(other.id, 50, "old", actor=boss, at=now - timedelta(days=380))
    points.adjust(other.id, 70, "recent", actor=boss, at=now - timedelta(days=10))
    order = place(vendor, buyer, price="42.00", at=now - timedelta(days=40))
    orders.mark_paid(order, now - timedelta(days=40))
    session.commit()

    assert jobs.nightly_points_job() == {"settled": 1, "expired": 2}
    session.expire_all()
    first = ledger(session)
    expired = {row[0]: row[2] for row in first if row[1] == "expired"}
    assert expired == {buyer.id: -200, other.id: -50}
    assert session.scalar(sa.select(sa.func.count()).select_from(PointsPendingEarn)) == 0
    assert points.balance_row(buyer.id).current_balance == 42  # the fresh earned points
    assert points.balance_row(other.id).current_balance == 70

    assert jobs.nightly_points_job() == {"settled": 0, "expired": 0}
    session.expire_all()
    assert ledger(session) == first


def test_hold_release_job_releases_lapsed_holds_once(app, committed_world):
    session = committed_world
    vendor, buyer, boss = shop(), customer(), admin()
    now = utcnow()
    points.adjust(buyer.id, 1000, "credit", actor=boss, at=now - timedelta(days=1))
    place(
        vendor, buyer, price="20.00", discount="2.00", with_points=True, at=now - timedelta(hours=2)
    )
    points.hold_external(buyer.id, 100, at=now - timedelta(hours=2))
    fresh = points.hold_external(buyer.id, 100, at=now)
    session.commit()

    assert jobs.release_points_holds_job() == 2
    assert jobs.release_points_holds_job() == 0
    session.expire_all()
    assert [hold.reference for hold in session.scalars(sa.select(PointsHold))] == [fresh.reference]


def test_jobs_are_scheduled(app):
    with app.app_context():
        registered = {job.name: job for job in scheduling.periodic_jobs(app)}
    nightly = registered["settle-and-expire-points"]
    assert (nightly.every, nightly.hour) == ("daily", 2)
    assert import_string(nightly.func_path) is jobs.nightly_points_job
    holds = registered["release-points-holds"]
    assert holds.every == "minutely"
    assert import_string(holds.func_path) is jobs.release_points_holds_job
