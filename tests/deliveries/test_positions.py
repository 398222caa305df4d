"""Drivers' position pings through the real Redis stream: the endpoint (a signed token, no user or
database query), the worker's batches (capture order per driver, late pings, offline drivers,
re-application), the history's retention and who sees it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.deliveries import positions
from portal.deliveries.models import Driver
from portal.deliveries.models_drivers import DriverPosition
from portal.extensions import db
from portal.geo import point
from portal.queues import get_redis
from tests.deliveries.helpers import CITY, verified_driver
from tests.factories import make_admin, make_customer, make_vendor


@pytest.fixture
def stream(app, db_session):
    key = positions.stream_key(app)
    client = get_redis(app)
    client.delete(key)
    yield key
    client.delete(key)


def now_ms(offset_s: float = 0) -> int:
    return int((time.time() + offset_s) * 1000)


def ping(client, driver, lat, lng, captured_ms=None, token=None, **extra):
    body = {
        "token": token if token is not None else positions.position_token(driver),
        "lat": lat,
        "lng": lng,
        "captured_at": captured_ms if captured_ms is not None else now_ms(),
        **extra,
    }
    return client.post("/driver-positions", json=body, csrf=False)


def location(driver) -> tuple[float, float] | None:
    db.session.expire_all()
    row = db.session.execute(
        sa.select(
            sa.func.ST_Y(sa.cast(Driver.current_location, _geom())),
            sa.func.ST_X(sa.cast(Driver.current_location, _geom())),
        ).where(Driver.id == driver.id)
    ).one()
    return None if row[0] is None else (round(row[0], 6), round(row[1], 6))


def _geom():
    from geoalchemy2 import Geometry

    return Geometry("POINT", srid=4326)


def history(driver) -> list[tuple[float, float]]:
    return [
        (round(r.latitude, 6), round(r.longitude, 6))
        for r in reversed(positions.recent_positions(driver.id, limit=1000))
    ]


# --- the endpoint ------------------------------------------------------------------------------


def test_a_ping_is_appended_to_the_stream(app, client, stream):
    driver = verified_driver()
    captured = now_ms(-2)
    answer = ping(client, driver, 45.52, -122.68, captured)
    assert answer.status_code == 202
    [(_entry_id, fields)] = get_redis(app).xrange(stream)
    assert fields[b"d"].decode() == str(driver.id)
    assert (float(fields[b"lat"]), float(fields[b"lng"])) == (45.52, -122.68)
    assert int(fields[b"t"]) == captured
    assert int(fields[b"r"]) >= captured


def test_the_stream_key_is_prefixed_per_configuration(app):
    assert positions.stream_key(app) == f"{app.config['RQ_KEY_PREFIX']}:driver-positions"
    assert app.config["RQ_KEY_PREFIX"] == "portal-test"


def test_the_endpoint_asks_the_database_nothing(app, client, stream):
    driver = verified_driver()
    token = positions.position_token(driver)
    statements = []
    engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert ping(client, driver, 45.5, -122.6, token=token).status_code == 202
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert statements == []


@pytest.mark.parametrize(
    ("token", "status"),
    [("", 401), ("not-a-token", 401), (None, 401)],
)
def test_a_bad_token_is_refused(app, client, stream, token, status):
    verified_driver()
    body = {"lat": 45.5, "lng": -122.6, "captured_at": now_ms()}
    if token is not None:
        body["token"] = token
    answer = client.post("/driver-positions", json=body, csrf=False)
    assert answer.status_code == status
    assert get_redis(app).xlen(stream) == 0


def test_a_token_signed_with_another_key_or_salt_is_refused(app, client, stream):
    from itsdangerous import URLSafeTimedSerializer

    driver = verified_driver()
    forged = URLSafeTimedSerializer("another key", salt=positions.TOKEN_SALT).dumps(str(driver.id))
    other_salt = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(str(driver.id))
    for token in (forged, other_salt):
        assert ping(client, driver, 45.5, -122.6, token=token).status_code == 401
    assert get_redis(app).xlen(stream) == 0


def test_an_expired_token_is_refused(app, client, stream):
    driver = verified_driver()
    token = positions.position_token(driver)
    saved = app.config["POSITION_TOKEN_HOURS"]
    app.config["POSITION_TOKEN_HOURS"] = -1
    try:
        assert ping(client, driver, 45.5, -122.6, token=token).status_code == 401
    finally:
        app.config["POSITION_TOKEN_HOURS"] = saved


@pytest.mark.parametrize(
    "body",
    [
        {"lat": 91, "lng": 0},
        {"lat": 0, "lng": -181},
        {"lat": "north", "lng": 0},
        {"lat": True, "lng": 0},
        {"lat": float("nan"), "lng": 0},
        {"lat": 45.5, "lng": -122.6, "captured_at": 0},
        {"lat": 45.5, "lng": -122.6, "captured_at": "soon"},
        {"lat": 45.5, "lng": -122.6, "captured_at": now_ms(3600)},
        {"lng": -122.6},
    ],
)
def test_malformed_pings_are_refused_with_400(app, client, stream, body):
    driver = verified_driver()
    payload = {"token": positions.position_token(driver), "captured_at": now_ms(), **body}
    answer = client.post("/driver-positions", json=payload, csrf=False)
    assert answer.status_code == 400
    assert get_redis(app).xlen(stream) == 0


def test_a_body_that_is_not_json_is_refused(client, stream):
    answer = client.post("/driver-positions", data="lat=1", csrf=False)
    assert answer.status_code == 400


# --- the worker's batches ----------------------------------------------------------------------


def test_a_batch_moves_each_driver_to_their_latest_capture(client, stream):
    one = verified_driver()
    two = verified_driver()
    base = now_ms(-60)
    ping(client, one, 45.50, -122.60, base + 1000)
    ping(client, two, 45.60, -122.70, base + 1000)
    ping(client, one, 45.51, -122.61, base + 3000)
    ping(client, one, 45.52, -122.62, base + 2000)  # captured earlier, arrived later
    result = positions.consume_once(block_ms=None)
    assert (result.read, result.recorded, result.moved) == (4, 4, 2)
    assert location(one) == (45.51, -122.61)
    assert location(two) == (45.60, -122.70)
    assert history(one) == [(45.50, -122.60), (45.52, -122.62), (45.51, -122.61)]  # by capture


def test_a_late_older_ping_never_replaces_a_newer_position(client, stream):
    driver = verified_driver()
    base = now_ms(-60)
    ping(client, driver, 45.53, -122.63, base + 5000)
    positions.consume_once(block_ms=None)
    ping(client, driver, 45.50, -122.60, base + 1000)  # a ping the phone held back
    result = positions.consume_once(block_ms=None)
    assert (result.recorded, result.moved) == (1, 0)
    assert location(driver) == (45.53, -122.63)
    assert len(history(driver)) == 2  # kept in the history all the same


def test_pings_of_an_offline_driver_are_ignored(client, stream):
    driver = verified_driver(status="offline", at=CITY)
    before = location(driver)
    ping(client, driver, 45.40, -122.50)
    result = positions.consume_once(block_ms=None)
    assert (result.read, result.recorded, result.moved) == (1, 0, 0)
    assert location(driver) == before
    assert history(driver) == []


def test_a_driver_on_a_delivery_is_tracked(client, stream):
    driver = verified_driver(status="on_delivery")
    ping(client, driver, 45.41, -122.51)
    assert positions.consume_once(block_ms=None).moved == 1
    assert location(driver) == (45.41, -122.51)


def test_applying_the_same_entries_again_changes_nothing(app, client, stream):
    driver = verified_driver()
    base = now_ms(-30)
    for n in range(5):
        ping(client, driver, 45.5 + n / 1000, -122.6, base + n * 1000)
    entries = get_redis(app).xrange(stream)
    first = positions.apply_entries(entries)
    again = positions.apply_entries(entries)
    assert (first.recorded, first.moved) == (5, 1)
    assert (again.recorded, again.moved) == (0, 0)
    assert location(driver) == (45.504, -122.6)
    assert len(history(driver)) == 5


def test_a_batch_is_acknowledged_once_applied_and_a_dead_consumers_batch_is_claimed(
    app, client, stream
):
    driver = verified_driver()
    ping(client, driver, 45.50, -122.60, now_ms(-10))
    redis = get_redis(app)
    positions.ensure_group(redis, stream)
    # A consumer read it and died before applying it.
    redis.xreadgroup(positions.GROUP, "dead-consumer", {stream: ">"}, count=10)
    assert positions.consume_once(consumer="live", block_ms=None, claim_idle_ms=0).recorded == 1
    assert redis.xpending(stream, positions.GROUP)["pending"] == 0
    assert location(driver) == (45.5, -122.6)
    assert positions.consume_once(consumer="live", block_ms=None, claim_idle_ms=0).read == 0


def test_many_pings_in_several_batches_keep_capture_order(app, client, stream):
    drivers = [verified_driver() for _ in range(3)]
    base = now_ms(-120)
    for step in range(20):
        for index, driver in enumerate(drivers):
            ping(client, driver, 45.0 + index + step / 1000, -122.0, base + step * 1000)
    app.config["POSITION_BATCH_SIZE"], saved = 7, app.config["POSITION_BATCH_SIZE"]
    try:
        total = positions.drain()
    finally:
        app.config["POSITION_BATCH_SIZE"] = saved
    assert (total.read, total.recorded) == (60, 60)
    for index, driver in enumerate(drivers):
        assert location(driver) == (round(45.0 + index + 0.019, 6), -122.0)
        assert len(history(driver)) == 20


def test_garbage_in_the_stream_is_skipped(app, client, stream):
    driver = verified_driver()
    get_redis(app).xadd(stream, {"d": "not-a-driver", "lat": "x"})
    ping(client, driver, 45.5, -122.6)
    assert positions.consume_once(block_ms=None).recorded == 1


# --- the history: retention and who sees it ----------------------------------------------------


def old_position(driver, days_ago: float):
    at = utcnow() - timedelta(days=days_ago)
    db.session.add(
        DriverPosition(
            driver_id=driver.id, position=point(45.5, -122.6), captured_at=at, received_at=at
        )
    )
    db.session.flush()


def test_the_history_past_its_days_is_deleted_in_batches(app, db_session):
    driver = verified_driver()
    for days in (40, 35, 31, 29, 1):
        old_position(driver, days)
    assert positions.delete_old_positions(dry_run=True) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DriverPosition)) == 5
    assert positions.delete_old_positions(batch=2) == 3
    left = db.session.scalar(sa.select(sa.func.count()).select_from(DriverPosition))
    assert left == 2


def test_the_prune_command_has_a_dry_run(app, db_session):
    driver = verified_driver()
    old_position(driver, 45)
    old_position(driver, 2)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["positions", "prune", "--dry-run"])
    assert "1 position(s) older than 30 days would be deleted" in dry.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DriverPosition)) == 2
    done = runner.invoke(args=["positions", "prune"])
    assert "Deleted 1 position(s)" in done.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DriverPosition)) == 1


def test_the_prune_job_is_scheduled_daily(app):
    from portal import scheduling

    jobs = {job.name: job for job in scheduling.periodic_jobs(app)}
    assert jobs["prune-positions"].func_path.endswith("positions.delete_old_positions_job")
    assert jobs["prune-positions"].every == "daily"
    assert jobs["apply-positions"].every == "minutely"


def test_the_driver_sees_their_own_positions(client, auth, db_session):
    driver = verified_driver()
    other = verified_driver()
    old_position(driver, 1)
    old_position(other, 1)
    old_position(driver, 60)  # past retention: not shown
    auth.login(driver.email)
    page = client.get("/driver/positions").get_data(as_text=True)
    assert page.count("45.50000") == 1


def test_admins_see_a_drivers_positions_on_the_drivers_page(client, auth, db_session):
    driver = verified_driver()
    old_position(driver, 1)
    auth.login(make_admin().email)
    page = client.get(f"/admin/drivers/{driver.id}").get_data(as_text=True)
    assert "Recent positions" in page and "45.50000" in page


@pytest.mark.parametrize("who", ["vendor", "customer", "anonymous"])
def test_nobody_else_sees_positions(client, auth, db_session, who):
    driver = verified_driver()
    old_position(driver, 1)
    makers = {"vendor": make_vendor, "customer": make_customer}
    if who != "anonymous":
        auth.login(makers[who]().email)
    assert client.get("/driver/positions").status_code in (302, 403)
    assert client.get(f"/admin/drivers/{driver.id}").status_code in (302, 403)


def test_the_answer_carries_the_portals_headers_and_a_large_body_is_refused(client, stream):
    driver = verified_driver()
    answer = ping(client, driver, 45.5, -122.6)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    big = client.post("/driver-positions", data="x" * 5000, content_type="application/json")
    assert big.status_code == 413


def test_only_post_is_taken(client, stream):
    assert client.get("/driver-positions").status_code == 405
