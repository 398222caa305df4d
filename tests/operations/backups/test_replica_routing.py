"""Replica routing against a real streaming replica of the scratch primary.

Replay on the replica is paused (``pg_wal_replay_pause``) so that it is visibly behind: a page
that read the replica shows the shop's old name, one that read the primary its new name.
"""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.operations.backups_cluster import wait_until
from portal.replica_routing import forget_lag
from portal.vendors.services import vendor_for_user
from tests.conftest import Auth, CsrfClient
from tests.factories import make_vendor
from tests.operations.backups.conftest import DATABASE, scratch_config
from tests.vendors.test_profile import profile_data

WRITES_SECONDS = 1


@pytest.fixture(scope="module")
def replica_app(primary, replica, app):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{replica.port}/{DATABASE}"
    routed = create_app(
        scratch_config(
            primary,
            SQLALCHEMY_BINDS={"replica": url},
            DATABASE_REPLICA_URL=url,
            REPLICA_READ_YOUR_WRITES_SECONDS=WRITES_SECONDS,
            REPLICA_MAX_LAG_SECONDS=3600,
            REPLICA_LAG_CHECK_SECONDS=0,
        )
    )
    routed.test_client_class = CsrfClient
    yield routed
    with routed.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def on_replica(replica, sql: str):
    with psycopg.connect(replica.url(DATABASE), autocommit=True) as connection:
        return connection.execute(sql).fetchall()


def shown_tier(client) -> str:
    """The tier the vendor's dashboard shows, as the dashboard's own query read it."""
    page = client.get("/vendor/").get_data(as_text=True)
    return next(tier for tier in ("bronze", "silver", "gold") if f"tier-badge tier-{tier}" in page)


def test_pages_read_the_replica_except_after_ones_own_write_or_past_the_lag(
    replica_app, replica, monkeypatch
):
    with replica_app.app_context():
        owner = make_vendor(email="replica-owner@example.com", shop_name="Replica Shop")
        db.session.commit()
        email, shop_id = owner.email, vendor_for_user(owner).id
    assert wait_until(
        lambda: on_replica(replica, f"SELECT 1 FROM shop_tiers WHERE shop_id = '{shop_id}'"), 30
    )
    client = replica_app.test_client()
    Auth(client).login(email)  # a sign-in is a write of theirs too
    time.sleep(WRITES_SECONDS + 0.2)
    on_replica(replica, "SELECT pg_wal_replay_pause()")
    try:
        # An admin's change on the primary, which the paused replica has not replayed.
        with replica_app.app_context():
            db.session.execute(
                sa.text("UPDATE shop_tiers SET tier = 'gold' WHERE shop_id = :id"), {"id": shop_id}
            )
            db.session.commit()

        assert shown_tier(client) == "bronze"  # read on the replica

        saved = client.post("/vendor/shop/", data=profile_data(name="Renamed By Owner"))
        assert saved.status_code == 302
        assert shown_tier(client) == "gold"  # after their own write: the primary

        time.sleep(WRITES_SECONDS + 0.2)
        assert shown_tier(client) == "bronze"  # the replica again

        monkeypatch.setitem(replica_app.config, "REPLICA_MAX_LAG_SECONDS", 0.5)
        forget_lag(replica_app)
        assert shown_tier(client) == "gold"  # the replica lags too far: everyone reads the primary
    finally:
        on_replica(replica, "SELECT pg_wal_replay_resume()")

    monkeypatch.setitem(replica_app.config, "REPLICA_MAX_LAG_SECONDS", 3600)
    assert wait_until(
        lambda: on_replica(
            replica, f"SELECT 1 FROM shop_tiers WHERE shop_id = '{shop_id}' AND tier = 'gold'"
        ),
        30,
    )
    assert shown_tier(client) == "gold"  # caught up: the replica has it too


def test_a_page_off_the_list_never_reads_the_replica(replica_app, replica):
    with replica_app.test_request_context("/vendor/shop/"):
        replica_app.preprocess_request()
        from flask import g

        assert g._read_replica is False
