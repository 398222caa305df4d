"""Read-only pages read from a streaming replica when one is configured (``DATABASE_REPLICA_URL``).

The pages in :data:`REPLICA_ENDPOINTS` (dashboards, statements, reports: pages that only read and
can bear a second's delay) send their queries to the replica's engine (the ``replica`` bind),
except when:

* the person signed in wrote something in the last ``REPLICA_READ_YOUR_WRITES_SECONDS``: every
  successful POST/PUT/PATCH/DELETE of theirs marks them in Redis (shared by every web node), so
  nobody sees their own change vanish;
* the replica's replay lag is above ``REPLICA_MAX_LAG_SECONDS`` (or it cannot be asked, or it is
  not streaming): then everyone reads the primary. The lag is measured on the replica at most every
  ``REPLICA_LAG_CHECK_SECONDS`` per process.

Without a replica URL nothing here runs: every query goes to the primary, as before. Writes never
go to the replica: a flush always uses the primary, and these pages do not write.
"""

from __future__ import annotations

import logging
import math
import time

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_app_context, request
from flask_login import current_user
from flask_sqlalchemy.session import Session
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

REPLICA_BIND = "replica"

#: Read-only pages that may read the replica (tests/test_replica_settings.py checks each exists).
REPLICA_ENDPOINTS = frozenset(
    {
        "admin.dashboard",
        "vendor.dashboard",
        "commissions.statement",
        "commissions.export_csv",
        "payouts.export_csv",
        "vendor_referrals.index",
        "vendor_referrals.export_csv",
        "driver_payouts.earnings_csv",
        "admin_driver_pay.driver_earnings_csv",
    }
)

_LAG_SQL = sa.text(
    "SELECT CASE"
    " WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
    "  THEN 'Infinity'::float8"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,"
    "  'Infinity'::float8) END"
)
_lag_cache: dict[int, tuple[float, float]] = {}  # id(app) -> (measured at, lag in seconds)


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a replica page's reads to the replica's engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and not self._flushing and reading_replica():
            replica = self._db.engines.get(REPLICA_BIND)
            if replica is not None:
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def reading_replica() -> bool:
    return has_app_context() and g.get("_read_replica", False)


def replica_configured(app: Flask | None = None) -> bool:
    app = app or current_app
    return REPLICA_BIND in app.config.get("SQLALCHEMY_BINDS", {})


def _wrote_key(user_id) -> str:
    return f"{current_app.config['RQ_KEY_PREFIX']}:replica:wrote:{user_id}"


def replica_lag_seconds() -> float:
    """The replica's replay lag, measured at most every REPLICA_LAG_CHECK_SECONDS."""
    app = current_app._get_current_object()
    now = time.monotonic()
    cached = _lag_cache.get(id(app))
    if cached and now - cached[0] < app.config["REPLICA_LAG_CHECK_SECONDS"]:
        return cached[1]
    from .extensions import db

    try:
        with db.engines[REPLICA_BIND].connect() as connection:
            lag = float(connection.execute(_LAG_SQL).scalar_one())
    except sa.exc.DBAPIError:
        log.warning("the replica could not be asked for its lag; reading the primary")
        lag = math.inf
    _lag_cache[id(app)] = (now, lag)
    return lag


def forget_lag(app: Flask) -> None:
    """Measure again at the next request (tests, after changing the replica's state)."""
    _lag_cache.pop(id(app), None)


def wrote_recently() -> bool:
    if not current_user.is_authenticated:
        return False
    from .queues import get_redis

    try:
        return bool(get_redis().exists(_wrote_key(current_user.id)))
    except RedisError:
        return True  # cannot tell: the primary is always right


def choose_database() -> None:
    from .extensions import READ_METHODS

    g._read_replica = False
    if request.method not in READ_METHODS or request.endpoint not in REPLICA_ENDPOINTS:
        return
    if wrote_recently():
        return
    g._read_replica = replica_lag_seconds() <= current_app.config["REPLICA_MAX_LAG_SECONDS"]


def note_write(response: Response) -> Response:
    from .extensions import READ_METHODS

    if (
        request.method not in READ_METHODS
        and response.status_code < 400
        and current_user.is_authenticated
    ):
        from .queues import get_redis

        try:
            get_redis().set(
                _wrote_key(current_user.id),
                "1",
                ex=current_app.config["REPLICA_READ_YOUR_WRITES_SECONDS"],
            )
        except RedisError:
            log.warning("could not mark a write for read-your-writes; the replica may lag it")
    return response


def _back_to_primary(exception=None) -> None:
    g.pop("_read_replica", None)


def init_app(app: Flask) -> None:
    if not replica_configured(app):
        return  # no replica: nothing to choose, every query reads the primary
    app.before_request(choose_database)
    app.after_request(note_write)
    app.teardown_request(_back_to_primary)
