"""The demo's delivery ratings: through the rating service, once per delivery, the drivers'
averages kept by the portal itself."""

import random
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from portal.deliveries.models_tracking import DeliveryRating
from portal.extensions import db
from portal.seed.tracking import seed_tracking
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import tracked


def test_seed_rates_delivered_deliveries_once(db_session):
    driver = verified_driver()
    delivered = [tracked("delivered", driver=driver) for _ in range(4)]
    under_way = tracked("picked_up")

    assert seed_tracking(random.Random(7), share=1.0) == 4
    ratings = db.session.scalars(sa.select(DeliveryRating)).all()
    assert {r.assignment_id for r in ratings} == {d.id for d in delivered}
    assert under_way.id not in {r.assignment_id for r in ratings}
    assert all(1 <= r.stars <= 5 and r.driver_id == driver.id for r in ratings)
    mean = Decimal(sum(r.stars for r in ratings)) / len(ratings)
    db.session.expire_all()
    assert driver.rating == mean.quantize(Decimal("0.01"), ROUND_HALF_UP)

    assert seed_tracking(random.Random(7), share=1.0) == 0  # nothing rated twice


def test_seed_rates_about_its_share(db_session):
    for _ in range(6):
        tracked("delivered")
    assert seed_tracking(random.Random(1), share=0.0) == 0
    assert seed_tracking(random.Random(1), share=0.5) in range(1, 6)
