"""First visits through the Redis stream (REFERRAL_VISIT_BUFFER): answered by the WSGI layer,
applied by the worker's batches with the same first-touch and counting rules."""

from __future__ import annotations

import pytest
import redis

from portal.extensions import db
from portal.queues import get_redis
from portal.referrals import buffer
from tests.factories import make_customer
from tests.orders.helpers import established_shop
from tests.referrals.helpers import follow, stats, visitor_of, visits


@pytest.fixture
def shop(db_session):
    return established_shop()


@pytest.fixture
def buffered(app, shop, client):
    app.config["REFERRAL_VISIT_BUFFER"] = True
    get_redis(app).delete(buffer.stream_key(app))
    # The layer knows a code once the view has looked it up: a robot's follow does that.
    follow(app.test_client(), shop.referral_code, **{"User-Agent": "Googlebot"})
    yield
    app.config["REFERRAL_VISIT_BUFFER"] = False
    get_redis(app).delete(buffer.stream_key(app))


def pending(app) -> int:
    return get_redis(app).xlen(buffer.stream_key(app))


def test_a_first_visit_goes_to_the_stream_then_the_batch_records_and_counts_it(
    client, app, shop, buffered
):
    response = follow(client, shop.referral_code, "utm_source=insta&utm_campaign=fall")
    assert response.status_code == 302 and response.headers["Location"] == f"/shops/{shop.slug}"
    set_cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in set_cookie and "HttpOnly" in set_cookie
    visitor = visitor_of(client, app)
    assert visits(shop) == [] and pending(app) == 1  # not yet in the database

    # The same visitor again before the batch ran: their cookie claims the shop, nothing is sent.
    follow(client, shop.referral_code, "utm_source=other")
    assert pending(app) == 1

    assert buffer.drain() == 1
    [row] = visits(shop)
    assert (row.session_id, row.utm_source, row.utm_campaign) == (visitor, "insta", "fall")
    [stat] = stats(shop)
    assert (stat.utm_source, stat.utm_campaign, stat.visits) == ("insta", "fall", 1)


def test_a_batch_applied_twice_or_holding_duplicates_counts_each_first_touch_once(
    app, shop, buffered
):
    entries = [
        (
            b"1-0",
            {
                b"v": b"visitor-dup-00001",
                b"s": shop.id.hex.encode(),
                b"c": b"X",
                b"us": b"late",
                b"um": b"",
                b"uc": b"",
                b"t": b"1764900000000",
            },
        ),
        (
            b"2-0",
            {
                b"v": b"visitor-dup-00001",
                b"s": shop.id.hex.encode(),
                b"c": b"X",
                b"us": b"early",
                b"um": b"",
                b"uc": b"",
                b"t": b"1764800000000",
            },
        ),
        (b"3-0", {b"v": b"bad", b"s": b"not-a-shop", b"t": b"x"}),
    ]
    assert buffer.apply_entries(entries) == 1
    assert buffer.apply_entries(entries) == 1
    [row] = visits(shop)
    assert row.utm_source == "early"  # the first touch, whatever the stream's order
    assert sum(s.visits for s in stats(shop)) == 1


def test_a_visitor_signing_in_before_the_batch_is_tied_all_the_same(
    client, auth, app, shop, buffered
):
    follow(client, shop.referral_code)
    user = make_customer(email="quick@example.com")
    auth.login("quick@example.com")
    assert visits(shop) == []
    buffer.drain()
    from portal.customers.services import customer_for_user

    [row] = visits(shop)
    assert row.customer_id == customer_for_user(user).id


def test_robots_and_prefetches_are_not_sent_to_the_stream(client, app, shop, buffered):
    follow(client, shop.referral_code, **{"User-Agent": "facebookexternalhit/1.1"})
    follow(client, shop.referral_code, **{"Sec-Purpose": "prefetch"})
    assert pending(app) == 0 and visits(shop) == []


def test_without_redis_the_view_writes_the_visit_itself(client, app, shop, buffered):
    from portal.queues import _REDIS_EXTENSION

    working = get_redis(app)
    # A real client of a port nothing listens on: the XADD fails, the layer steps aside.
    app.extensions[_REDIS_EXTENSION] = redis.Redis(host="127.0.0.1", port=1, socket_timeout=1)
    try:
        response = follow(client, shop.referral_code)
    finally:
        app.extensions[_REDIS_EXTENSION] = working
    assert response.status_code == 302 and "Set-Cookie" in response.headers
    assert len(visits(shop)) == 1 and pending(app) == 0


def test_the_minutely_job_drains_the_stream(client, app, shop, buffered):
    from portal.scheduling import periodic_jobs

    follow(client, shop.referral_code)
    assert buffer.apply_visits_job() == 1
    assert len(visits(shop)) == 1
    jobs = {job.name: job for job in periodic_jobs(app)}
    assert jobs["apply-referral-visits"].every == "minutely"
    db.session.flush()
