"""Ratings committed at the same moment, each on its own connection: two ratings of one driver
both count in the average, and one delivery rated twice at once keeps one rating."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.deliveries import tracking
from portal.deliveries.models import DeliveryAssignment, Driver
from portal.deliveries.models_tracking import DeliveryRating
from portal.extensions import db
from tests.database import empty_all_tables
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import tracked


@pytest.fixture
def committed_world(app):
    with app.app_context():
        yield db.session
    with app.app_context():
        empty_all_tables()


def at_once(app, calls):
    """Each call in its own thread, app context and database connection, released together;
    returns what each returned (or the exception it raised)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        with app.app_context():
            barrier.wait()
            try:
                results[n] = call()
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                results[n] = error

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def rater(assignment_id, stars):
    def call():
        assignment = db.session.get(DeliveryAssignment, assignment_id)
        return tracking.rate_delivery(assignment, stars=stars).stars

    return call


def test_two_ratings_of_one_driver_at_once_both_count(app, committed_world):
    driver = verified_driver()
    first, second = (tracked("delivered", driver=driver) for _ in range(2))
    committed_world.commit()
    ids = (first.id, second.id, driver.id)

    assert at_once(app, [rater(ids[0], 5), rater(ids[1], 2)]) == [5, 2]
    committed_world.expire_all()
    assert committed_world.get(Driver, ids[2]).rating == Decimal("3.50")


def test_one_delivery_rated_twice_at_once_keeps_one_rating(app, committed_world):
    driver = verified_driver()
    delivery = tracked("delivered", driver=driver)
    committed_world.commit()
    ids = (delivery.id, driver.id)

    results = at_once(app, [rater(ids[0], 5), rater(ids[0], 1)])
    refused = [r for r in results if isinstance(r, tracking.RatingRefused)]
    assert len(refused) == 1 and str(refused[0]) == tracking.ALREADY_RATED
    kept = next(r for r in results if isinstance(r, int))
    committed_world.expire_all()
    count = sa.select(sa.func.count()).select_from(DeliveryRating)
    assert committed_world.scalar(count) == 1
    assert committed_world.get(Driver, ids[1]).rating == Decimal(kept)
