"""The demo's drivers: a document each, every verification state, online drivers with positions."""

import random

import sqlalchemy as sa

from portal.deliveries import positions
from portal.deliveries.models import Driver
from portal.deliveries.models_drivers import DriverDocument
from portal.extensions import db
from portal.seed.drivers import seed_drivers
from tests.deliveries.helpers import verified_driver
from tests.factories import PASSWORD, make_admin


def test_seed_drivers_covers_every_state_and_runs_once(db_session):
    admin = make_admin()
    online = verified_driver(status="available")
    counts = seed_drivers(
        random.Random(7), admin=admin, email_for=lambda slug: f"{slug}@demo.test", password=PASSWORD
    )
    assert counts["applicants"] == 4, counts
    assert counts["online_with_positions"] == 1, counts
    drivers = db.session.scalars(sa.select(Driver)).all()
    assert {d.background_check_status for d in drivers} >= {
        "pending",
        "clear",
        "consider",
        "suspended",
        "failed",
    }
    documents = db.session.scalar(sa.select(sa.func.count()).select_from(DriverDocument))
    assert documents == len(drivers)
    db.session.refresh(online)
    assert online.status == "available" and online.insurance_verified
    assert online.location_captured_at is not None
    assert len(positions.recent_positions(online.id)) == 6

    again = seed_drivers(
        random.Random(7), admin=admin, email_for=lambda slug: f"{slug}@demo.test", password=PASSWORD
    )
    assert again == {"applicants": 0, "documents": 0, "online_with_positions": 0}
