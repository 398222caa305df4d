"""Dispatch: "ready for pickup" makes the priced delivery and queues the job; the job offers it to
the nearest available verified driver in range, then the next one when an offer is declined or
expires, and hands it to the external provider after the configured tries or with nobody in
range; accepting confirms it. The KNN statement's plan uses the partial GIST index."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.deliveries import dispatch, driving
from portal.deliveries.dispatch import DISPATCH_JOB, NEAREST_AVAILABLE_SQL
from portal.deliveries.models import DeliveryOffer, DeliveryStatusChange
from portal.deliveries.providers.jobs import send_to_provider
from portal.extensions import db
from tests.deliveries.dispatch_helpers import (
    empty_queue,
    north,
    pending_offers,
    queued,
    ready_order,
    shop_at,
)
from tests.deliveries.helpers import CITY, verified_driver

SEND_JOB = "portal.deliveries.providers.jobs.send_to_provider"


@pytest.fixture
def queue(app):
    queue = empty_queue(app)
    yield queue
    queue.empty()


@pytest.fixture
def settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "DISPATCH_RADIUS_MILES", Decimal("3"))
    monkeypatch.setitem(app.config, "DISPATCH_MAX_OFFERS", 3)
    monkeypatch.setitem(app.config, "DISPATCH_OFFER_SECONDS", 60)
    monkeypatch.setitem(app.config, "DISPATCH_CANDIDATES", 3)
    return app.config


def test_ready_for_pickup_makes_the_priced_delivery_and_queues_the_dispatch(app, db_session, queue):
    order, delivery = ready_order(delivery_fee="4.99")
    assert (delivery.provider, delivery.status, delivery.driver_id) == ("internal", "created", None)
    assert delivery.customer_delivery_fee == Decimal("4.99") == order.delivery_fee
    # 0.5535 great-circle miles x 1.3 = 0.72 road miles; 2.9 minutes at 15 mph, so 3.
    assert delivery.total_distance_miles == Decimal("0.72")
    assert delivery.eta_minutes == 3
    assert delivery.driver_pay == Decimal("4.00")  # 2.50 + 0.504 + 0.45 is below the minimum
    assert delivery.route_polyline and len(delivery.tracking_token) >= 40
    assert delivery.delivery_pin.isdigit() and len(delivery.delivery_pin) == 4
    assert delivery.pickup_address["line1"] == "1005 W Burnside St"
    history = db.session.scalars(
        sa.select(DeliveryStatusChange).where(DeliveryStatusChange.assignment_id == delivery.id)
    ).all()
    assert [(h.from_status, h.to_status, h.source) for h in history] == [
        (None, "created", "vendor")
    ]
    db.session.commit()
    assert queued(queue) == [(DISPATCH_JOB, (str(delivery.id),))]


def test_a_dropoff_without_coordinates_has_no_trip_and_pays_the_minimum(db_session, queue):
    _order, delivery = ready_order(dropoff=None)
    assert delivery.total_distance_miles is None and delivery.eta_minutes is None
    assert delivery.route_polyline is None and delivery.dropoff_location is None
    assert delivery.driver_pay == Decimal("4.00")


def test_the_nearest_available_verified_driver_in_range_gets_the_offer(db_session, settings):
    far = verified_driver(north(2.0))
    near = verified_driver(north(0.5))
    verified_driver(north(0.1), status="offline")
    verified_driver(north(0.2), status="on_delivery")
    unverified = verified_driver(north(0.3))
    unverified.background_check_status = "consider"
    _order, delivery = ready_order()

    result = dispatch.dispatch(delivery.id)
    assert result.outcome == "offered" and result.offer.driver_id == near.id
    offer = result.offer
    assert offer.expires_at - offer.offered_at == timedelta(seconds=60)
    assert offer.pickup_distance_miles == Decimal("0.50")
    assert far.id not in {o.driver_id for o in pending_offers()}
    # A second run while the offer is out changes nothing.
    assert dispatch.dispatch(delivery.id).outcome == "waiting"
    assert len(pending_offers(delivery)) == 1


def test_a_declined_or_expired_offer_goes_to_the_next_nearest(app, db_session, settings, queue):
    first = verified_driver(north(0.2))
    second = verified_driver(north(0.4))
    third = verified_driver(north(0.6))
    _order, delivery = ready_order()
    db.session.commit()
    queue.empty()  # the dispatch job of "ready", run here instead
    offer = dispatch.dispatch(delivery.id).offer
    assert offer.driver_id == first.id

    driving.decline_offer(first, offer.id)
    assert dispatch.dispatch(delivery.id).offer.driver_id == second.id

    # The second lets it run out: the sweep expires it and queues the dispatch again.
    later = utcnow() + timedelta(seconds=61)
    assert dispatch.sweep_offers(later) == {"expired": 1, "stale": 0}
    db.session.commit()
    assert queued(queue) == [(DISPATCH_JOB, (str(delivery.id),))]
    assert dispatch.sweep_offers(later) == {"expired": 0, "stale": 0}  # idempotent
    assert dispatch.dispatch(delivery.id, now=later).offer.driver_id == third.id
    outcomes = dict(
        db.session.execute(
            sa.select(DeliveryOffer.driver_id, DeliveryOffer.outcome).where(
                DeliveryOffer.assignment_id == delivery.id
            )
        ).all()
    )
    assert outcomes == {first.id: "declined", second.id: "expired", third.id: "pending"}


def test_a_dispatch_after_the_time_expires_the_offer_itself(db_session, settings):
    first = verified_driver(north(0.2))
    second = verified_driver(north(0.4))
    _order, delivery = ready_order()
    offer = dispatch.dispatch(delivery.id).offer
    assert offer.driver_id == first.id
    result = dispatch.dispatch(delivery.id, now=offer.expires_at)  # before the sweep came by
    assert result.outcome == "offered" and result.offer.driver_id == second.id
    assert db.session.get(DeliveryOffer, offer.id).outcome == "expired"


def test_nobody_in_range_goes_to_the_external_provider(db_session, settings, app_doordash):
    verified_driver(north(3.5))  # outside the 3-mile radius
    _order, delivery = ready_order()
    db.session.commit()
    result = dispatch.dispatch(delivery.id)
    assert (result.outcome, result.reason) == ("provider", "no driver in range")
    assert delivery.provider == "doordash"
    db.session.commit()
    # The provider job, as the worker runs it, books it with the (local) DoorDash server.
    assert send_to_provider(str(delivery.id)) == str(delivery.id)
    assert [d["external_delivery_id"] for d in app_doordash.deliveries()] == [str(delivery.id)]
    # Our drivers are never offered it after that.
    verified_driver(north(0.1))
    assert dispatch.dispatch(delivery.id).outcome == "not_dispatchable"


def test_after_the_configured_tries_it_goes_to_the_provider(db_session, settings, queue):
    drivers = [verified_driver(north(0.1 * n)) for n in range(1, 5)]
    _order, delivery = ready_order()
    for driver in drivers[:3]:
        offer = dispatch.dispatch(delivery.id).offer
        assert offer.driver_id == driver.id
        driving.decline_offer(driver, offer.id)
    result = dispatch.dispatch(delivery.id)
    assert (result.outcome, result.reason) == ("provider", "3 offers declined or expired")
    db.session.commit()
    assert queued(queue)[-1] == (SEND_JOB, (str(delivery.id),))


def test_a_driver_holds_one_offer_at_a_time(db_session, settings):
    driver = verified_driver(north(0.2))
    _order, first = ready_order()
    _order, second = ready_order(shop_at())
    assert dispatch.dispatch(first.id).offer.driver_id == driver.id
    # The only driver in range holds an offer: the second delivery finds nobody.
    assert dispatch.dispatch(second.id).outcome == "provider"


def test_accepting_confirms_the_delivery_and_puts_the_driver_on_it(db_session, settings):
    driver = verified_driver(north(0.2))
    _order, delivery = ready_order()
    offer = dispatch.dispatch(delivery.id).offer
    driving.accept_offer(driver, offer.id)
    db.session.refresh(delivery)
    assert (delivery.status, delivery.driver_id, driver.status) == (
        "confirmed",
        driver.id,
        "on_delivery",
    )
    assert db.session.get(DeliveryOffer, offer.id).outcome == "accepted"
    assert delivery.history[-1].source == "driver"
    assert dispatch.dispatch(delivery.id).outcome == "not_dispatchable"
    with pytest.raises(driving.OfferRefused, match="accepted this delivery already"):
        driving.accept_offer(driver, offer.id)


def test_an_expired_offer_cannot_be_accepted(db_session, settings):
    driver = verified_driver(north(0.2))
    _order, delivery = ready_order()
    offer = dispatch.dispatch(delivery.id).offer
    with pytest.raises(driving.OfferRefused, match="expired"):
        driving.accept_offer(driver, offer.id, now=offer.expires_at)
    assert delivery.status == "created"


def test_another_drivers_offer_is_not_found(db_session, settings):
    driver = verified_driver(north(0.2))
    other = verified_driver(north(5))
    _order, delivery = ready_order()
    offer = dispatch.dispatch(delivery.id).offer
    assert offer.driver_id == driver.id
    with pytest.raises(driving.NotYours):
        driving.accept_offer(other, offer.id)
    with pytest.raises(driving.NotYours):
        driving.decline_offer(other, offer.id)


def test_the_sweep_dispatches_a_delivery_whose_job_was_lost(app, db_session, settings, queue):
    _order, delivery = ready_order()
    db.session.commit()
    queue.empty()  # the job never reached the worker
    assert dispatch.sweep_offers(utcnow()) == {"expired": 0, "stale": 0}
    later = utcnow() + timedelta(seconds=app.config["DISPATCH_STALE_SECONDS"] + 1)
    assert dispatch.sweep_offers(later) == {"expired": 0, "stale": 1}
    db.session.commit()
    assert queued(queue) == [(DISPATCH_JOB, (str(delivery.id),))]


def test_the_admins_reassign_queues_this_dispatch():
    from portal.deliveries.admin_actions import DISPATCH_JOB as ADMIN_JOB

    assert ADMIN_JOB == DISPATCH_JOB
    module, name = DISPATCH_JOB.rsplit(".", 1)
    assert module == dispatch.__name__ and callable(getattr(dispatch, name))


# --- the plan ------------------------------------------------------------------------------------


def plan(sql: str, point, *, generic: bool = False, status: str | None = None) -> str:
    """EXPLAIN of a KNN statement; ``generic`` forces the generic plan a prepared statement gets
    after a few runs (``status``: bound as a fourth parameter)."""
    latitude, longitude = point
    if not generic:
        rows = db.session.execute(
            sa.text("EXPLAIN " + sql), {"lat": latitude, "lng": longitude, "k": 5}
        )
        return "\n".join(row[0] for row in rows)
    prepared = sql.replace(":lng", "$1").replace(":lat", "$2").replace(":k", "$3")
    types, arguments = "float8, float8, int", f"{longitude}, {latitude}, 5"
    if status is not None:
        prepared = prepared.replace("'available'", "$4")
        types, arguments = types + ", text", arguments + f", '{status}'"
    db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
    db.session.execute(sa.text(f"PREPARE nearest ({types}) AS {prepared}"))
    try:
        rows = db.session.execute(sa.text(f"EXPLAIN EXECUTE nearest ({arguments})"))
        return "\n".join(row[0] for row in rows)
    finally:
        db.session.execute(sa.text("DEALLOCATE nearest"))


@pytest.fixture
def many_drivers(db_session):
    for n in range(60):
        verified_driver(north(0.05 * n), status="available" if n % 3 == 0 else "offline")
    # A tiny table: without this the planner would read it whole; show the index it picks.
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    db.session.execute(sa.text("ANALYZE drivers"))


@pytest.mark.parametrize("generic", [False, True], ids=["custom plan", "generic plan"])
def test_the_knn_scan_uses_the_partial_gist_index(many_drivers, generic):
    explained = plan(NEAREST_AVAILABLE_SQL, CITY, generic=generic)
    assert "Index Scan using idx_driver_available_location on drivers" in explained, explained
    assert "Order By: (current_location <->" in explained
    assert "Sort" not in explained and "Bitmap" not in explained


def test_a_bound_status_would_miss_the_partial_index(many_drivers):
    """Why the literal: the generic plan cannot know a parameter matches the index predicate."""
    explained = plan(NEAREST_AVAILABLE_SQL, CITY, generic=True, status="available")
    assert "idx_driver_available_location" not in explained, explained


def test_the_statement_keeps_the_literal_status_and_no_radius_filter():
    sql = " ".join(NEAREST_AVAILABLE_SQL.split())
    assert "WHERE status = 'available'" in sql
    assert "ST_DWithin" not in sql and ":status" not in sql
