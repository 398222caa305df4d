"""While online, the driver's phone sends its position (static/js/driver_positions.js) to the ping
endpoint; the worker's batch moves the driver; going offline stops the pings."""

import time

import pytest
import sqlalchemy as sa

from portal.deliveries import positions
from portal.extensions import db
from portal.queues import get_redis
from tests.browser.conftest import PHONE, sign_in
from tests.deliveries.helpers import verified_driver

pytestmark = pytest.mark.browser


def wait_for_entries(app, count: int, seconds: float = 15) -> int:
    key = positions.stream_key(app)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        length = get_redis(app).xlen(key)
        if length >= count:
            return length
        time.sleep(0.1)
    return get_redis(app).xlen(key)


def test_an_online_phone_shares_its_position_and_offline_stops(
    app, live_server, committed, page_factory
):
    key = positions.stream_key(app)
    get_redis(app).delete(key)
    saved = app.config["POSITION_MIN_SECONDS"]
    app.config["POSITION_MIN_SECONDS"] = 1
    try:
        driver = verified_driver(status="offline")
        committed.commit()
        page = page_factory(PHONE)
        page.context.grant_permissions(["geolocation"], origin=live_server)
        page.context.set_geolocation({"latitude": 45.52, "longitude": -122.68, "accuracy": 10})
        sign_in(page, live_server, driver.email, lands_on="/driver/")
        assert get_redis(app).xlen(key) == 0  # offline: nothing sent

        page.click("#availability button")
        page.wait_for_selector("#availability.is-online")
        assert wait_for_entries(app, 1) == 1
        page.wait_for_selector("#position-status:has-text('Sharing your position')")

        time.sleep(1.2)  # the throttle, then a move of a few hundred metres
        page.context.set_geolocation({"latitude": 45.525, "longitude": -122.68, "accuracy": 10})
        assert wait_for_entries(app, 2) == 2

        positions.drain(consumer="browser-test")
        db.session.expire_all()
        row = db.session.execute(
            sa.text("SELECT ST_Y(current_location::geometry) FROM drivers WHERE id = :id"),
            {"id": driver.id},
        ).scalar()
        assert round(row, 3) == 45.525

        page.click("#availability button")
        page.wait_for_selector("#availability:not(.is-online)")
        time.sleep(1.2)
        page.context.set_geolocation({"latitude": 45.53, "longitude": -122.69, "accuracy": 10})
        time.sleep(1.5)
        assert get_redis(app).xlen(key) == 2  # offline: the watch stopped
        assert page.console_errors == []
    finally:
        app.config["POSITION_MIN_SECONDS"] = saved
        get_redis(app).delete(key)
