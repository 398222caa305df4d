"""Replica routing's configuration (the routing itself: tests/operations/backups/)."""

from __future__ import annotations

from portal import create_app
from portal.config import TestConfig
from portal.replica_routing import REPLICA_ENDPOINTS, choose_database, replica_configured


def test_every_replica_page_is_a_route_that_reads(app):
    readable = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert readable >= REPLICA_ENDPOINTS


def test_without_a_replica_url_nothing_is_routed(app):
    assert app.config["SQLALCHEMY_BINDS"] == {}
    assert not replica_configured(app)
    assert choose_database not in app.before_request_funcs.get(None, [])


def test_a_replica_url_adds_the_bind_and_the_routing():
    url = "postgresql+psycopg://postgres@127.0.0.1:1/portal"
    config = type("WithReplica", (TestConfig,), {"SQLALCHEMY_BINDS": {"replica": url}})
    routed = create_app(config)
    assert replica_configured(routed)
    assert choose_database in routed.before_request_funcs[None]
