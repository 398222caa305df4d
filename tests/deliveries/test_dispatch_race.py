"""Dispatches running at the same moment, each in its own thread, app context and database
connection: no driver is ever offered two deliveries, and a driver another dispatch is claiming is
skipped (SKIP LOCKED), not waited for."""

from __future__ import annotations

import sqlalchemy as sa

from portal.deliveries import dispatch, driving
from portal.deliveries.models import DeliveryAssignment, DeliveryOffer, Driver
from portal.extensions import db
from tests.deliveries.dispatch_helpers import north, ready_order, shop_at
from tests.deliveries.helpers import verified_driver

# Each call in its own thread and connection, released together; the world committed for real.
from tests.deliveries.test_rating_race import at_once, committed_world  # noqa: F401


def dispatcher(assignment_id):
    return lambda: dispatch.dispatch(assignment_id).outcome


def offers_by_driver(session) -> dict:
    rows = session.execute(
        sa.select(DeliveryOffer.driver_id, sa.func.count())
        .where(DeliveryOffer.outcome == "pending")
        .group_by(DeliveryOffer.driver_id)
    ).all()
    return dict(rows)


def test_concurrent_dispatches_never_give_one_driver_two_deliveries(app, committed_world):  # noqa: F811
    drivers = [verified_driver(north(0.1 * n)) for n in range(1, 4)]
    shop = shop_at()
    deliveries = [ready_order(shop)[1] for _ in range(8)]
    committed_world.commit()
    ids = [delivery.id for delivery in deliveries]

    for _round in range(3):  # each round: every delivery still looking is dispatched at once
        outcomes = at_once(app, [dispatcher(i) for i in ids])
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        committed_world.expire_all()
        counts = offers_by_driver(committed_world)
        assert set(counts.values()) <= {1}, counts
        assert len(counts) <= len(drivers)

    # Every driver ended up with exactly one offer; the rest went to the provider.
    counts = offers_by_driver(committed_world)
    assert sorted(counts) == sorted(d.id for d in drivers)
    providers = committed_world.scalars(
        sa.select(DeliveryAssignment.provider).where(DeliveryAssignment.id.in_(ids))
    ).all()
    assert providers.count("internal") == 3 and providers.count("doordash") == 5

    # All accept at once: each has one delivery, nobody two.
    offers = committed_world.scalars(
        sa.select(DeliveryOffer).where(DeliveryOffer.outcome == "pending")
    ).all()
    by_driver = {offer.driver_id: offer.id for offer in offers}

    def accepter(driver_id, offer_id):
        return lambda: driving.accept_offer(db.session.get(Driver, driver_id), offer_id).id

    accepted = at_once(app, [accepter(d, o) for d, o in by_driver.items()])
    assert not [a for a in accepted if isinstance(a, Exception)], accepted
    committed_world.expire_all()
    carried = committed_world.execute(
        sa.select(DeliveryAssignment.driver_id, sa.func.count())
        .where(DeliveryAssignment.driver_id.is_not(None))
        .group_by(DeliveryAssignment.driver_id)
    ).all()
    assert sorted(count for _, count in carried) == [1, 1, 1]


def test_a_driver_being_claimed_elsewhere_is_skipped_not_waited_for(app, committed_world):  # noqa: F811
    nearest = verified_driver(north(0.1))
    next_one = verified_driver(north(0.3))
    _order, delivery = ready_order()
    committed_world.commit()
    ids = (nearest.id, next_one.id, delivery.id)

    with db.engine.connect() as other:  # another dispatch, in the middle of claiming `nearest`
        other.execute(sa.text("SELECT id FROM drivers WHERE id = :id FOR UPDATE"), {"id": ids[0]})
        with app.app_context():
            db.session.execute(sa.text("SET lock_timeout = '2s'"))  # waiting would fail
            result = dispatch.dispatch(ids[2])
            assert result.outcome == "offered" and result.offer.driver_id == ids[1]
            db.session.commit()
        other.rollback()
