"""The worker's position consumer thread (``positions.run_consumer``) applies pings as they come,
against the real Redis and PostgreSQL (committed for real; ``live_server`` empties the tables)."""

import threading
import time

import requests
import sqlalchemy as sa

from portal.deliveries import positions
from portal.extensions import db
from portal.queues import get_redis
from tests.deliveries.helpers import verified_driver


def latitude(driver_id):
    db.session.expire_all()
    return db.session.execute(
        sa.text("SELECT ST_Y(current_location::geometry) FROM drivers WHERE id = :id"),
        {"id": driver_id},
    ).scalar()


def test_the_consumer_thread_applies_pings_as_they_come(app, live_server, committed):
    key = positions.stream_key(app)
    get_redis(app).delete(key)
    driver = verified_driver()
    committed.commit()
    token = positions.position_token(driver)
    stop = threading.Event()
    thread = threading.Thread(target=positions.run_consumer, args=(app, stop), daemon=True)
    thread.start()
    try:
        now = int(time.time() * 1000)
        for n, lat in enumerate((45.51, 45.52, 45.53)):
            answer = requests.post(
                f"{live_server}/driver-positions",
                json={"token": token, "lat": lat, "lng": -122.6, "captured_at": now + n},
                timeout=5,
            )
            assert answer.status_code == 202
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and latitude(driver.id) != 45.53:
            time.sleep(0.1)
        assert latitude(driver.id) == 45.53
        assert get_redis(app).xpending(key, positions.GROUP)["pending"] == 0
    finally:
        stop.set()
        thread.join(timeout=5)
        get_redis(app).delete(key)
    assert not thread.is_alive()
