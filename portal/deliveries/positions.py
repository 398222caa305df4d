"""Drivers' position pings: a signed token, a Redis stream, a worker that applies them in batches.

A synchronous database write per ping cannot keep up with many phones, so:

1. The driver's page carries a signed per-driver token (itsdangerous, ``POSITION_TOKEN_HOURS``).
   ``static/js/driver_positions.js`` sends ``navigator.geolocation.watchPosition`` positions
   (at most one every ``POSITION_MIN_SECONDS``, and only once moved ``POSITION_MIN_METERS``),
   each with the time the phone captured it.
2. ``POST /driver-positions`` (portal/deliveries/position_views.py) checks the token and the
   numbers, asks neither the session nor the database anything, and appends the ping to the
   Redis stream ``<RQ_KEY_PREFIX>:driver-positions`` (``XADD … MAXLEN ~``). Pings may be dropped:
   there is no outbox for them.
3. The worker (``worker.py`` runs :func:`run_consumer` in a thread; the minutely job
   :func:`apply_positions_job` drains whatever is left if it does not) reads the stream in
   batches through a consumer group (``XREADGROUP``), and per batch:
   - appends every ping of a driver who is online (``available`` or ``on_delivery``) to
     ``driver_positions`` (``ON CONFLICT (driver_id, captured_at) DO NOTHING``: a batch applied
     twice adds nothing);
   - moves each such driver's ``current_location`` to their latest ping of the batch, in one
     set-based ``UPDATE``, only when it was captured after the position the row has
     (``location_captured_at``): a late, older ping never replaces a newer position;
   - commits, then acknowledges the batch (``XACK``). A batch whose worker died is claimed again
     by the next consumer (``XAUTOCLAIM``) and applied again, harmlessly.

Pings of an offline driver (or an unknown one) are dropped by the worker.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
import sqlalchemy as sa
from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..clock import utcnow
from ..extensions import db
from ..operations.batches import delete_in_batches
from ..queues import get_redis
from ..stream_consumers import consume_until_stopped, consumer_name

log = logging.getLogger(__name__)

TOKEN_SALT = "driver-position-pings"
GROUP = "position-appliers"
ONLINE = ("available", "on_delivery")


class PingRefused(ValueError):
    """A ping that cannot be taken: ``status`` 400 (malformed) or 401 (token)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --- the token ---------------------------------------------------------------------------------


def _serializer(app: Flask | None = None) -> URLSafeTimedSerializer:
    # itsdangerous takes a list of keys, newest last: tokens signed with a fallback still open.
    app = app or current_app._get_current_object()
    serializer = app.extensions.get("portal.position-tokens")
    if serializer is None:
        config = app.config
        keys = [*reversed(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]
        serializer = app.extensions["portal.position-tokens"] = URLSafeTimedSerializer(
            keys, salt=TOKEN_SALT
        )
    return serializer


def position_token(driver) -> str:
    """The signed token the driver's page sends with each ping (their id, nothing else)."""
    return _serializer().dumps(str(driver.id))


def driver_id_from_token(token: str | None, app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    if not token or not isinstance(token, str) or len(token) > 200:
        raise PingRefused(401, "A position needs the page's token.")
    try:
        value = _serializer(app).loads(token, max_age=app.config["POSITION_TOKEN_HOURS"] * 3600)
    except (BadSignature, UnicodeError, ValueError):  # (a lone surrogate cannot be encoded)
        raise PingRefused(401, "The position token is not valid: reload the page.") from None
    if not isinstance(value, str) or len(value) != 36:
        raise PingRefused(401, "The position token is not valid: reload the page.")
    return value


# --- the endpoint's side: check and append -----------------------------------------------------


def stream_key(app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    return f"{app.config['RQ_KEY_PREFIX']}:driver-positions"


def _number(payload: dict, name: str, low: float, high: float) -> float:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PingRefused(400, f"“{name}” must be a number.")
    try:
        number = float(value)
    except ValueError:
        raise PingRefused(400, f"“{name}” must be a number.") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise PingRefused(400, f"“{name}” must be between {low:g} and {high:g}.")
    return number


@dataclass(frozen=True)
class Ping:
    driver_id: str
    latitude: float
    longitude: float
    captured_ms: int
    received_ms: int


def check_ping(payload, *, now: datetime | None = None, app: Flask | None = None) -> Ping:
    """The ping the JSON body describes: ``token``, ``lat``, ``lng``, ``captured_at`` (ms since
    the epoch, as ``Position.timestamp``); :class:`PingRefused` otherwise."""
    app = app or current_app._get_current_object()
    if not isinstance(payload, dict):
        raise PingRefused(400, "Send the position as a JSON object.")
    driver_id = driver_id_from_token(payload.get("token"), app)
    latitude = _number(payload, "lat", -90, 90)
    longitude = _number(payload, "lng", -180, 180)
    now = now or utcnow()
    received_ms = int(now.timestamp() * 1000)
    config = app.config
    try:
        captured = _number(
            payload,
            "captured_at",
            received_ms - config["POSITION_MAX_AGE_SECONDS"] * 1000,
            received_ms + config["POSITION_CLOCK_SKEW_SECONDS"] * 1000,
        )
    except PingRefused:
        raise PingRefused(
            400,
            "“captured_at” must be when the phone captured the position (milliseconds since "
            f"1970), at most {config['POSITION_MAX_AGE_SECONDS'] // 60} minutes ago.",
        ) from None
    return Ping(driver_id, latitude, longitude, int(captured), received_ms)


def append_ping(ping: Ping, app: Flask | None = None) -> str:
    """``XADD`` the ping to the stream (trimmed to about ``POSITION_STREAM_MAXLEN``)."""
    app = app or current_app._get_current_object()
    entry_id = get_redis(app).xadd(
        stream_key(app),
        {
            "d": ping.driver_id,
            "lat": repr(ping.latitude),
            "lng": repr(ping.longitude),
            "t": str(ping.captured_ms),
            "r": str(ping.received_ms),
        },
        maxlen=app.config["POSITION_STREAM_MAXLEN"],
        approximate=True,
    )
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


# --- the worker's side: read, apply, acknowledge -----------------------------------------------


def _ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _decode(fields: dict) -> tuple[str, float, float, int, int] | None:
    def get(name: str) -> str:
        value = fields.get(name.encode(), fields.get(name))
        return value.decode() if isinstance(value, bytes) else value

    try:
        return (get("d"), float(get("lat")), float(get("lng")), int(get("t")), int(get("r")))
    except (AttributeError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class BatchResult:
    read: int
    recorded: int  # history rows added
    moved: int  # drivers whose current_location moved


_HISTORY_SQL = sa.text(
    """
    INSERT INTO driver_positions (driver_id, position, captured_at, received_at)
    SELECT p.driver_id, ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326)::geography,
           p.captured_at, p.received_at
    FROM jsonb_to_recordset(CAST(:pings AS jsonb))
         AS p(driver_id uuid, lat float8, lng float8, captured_at timestamp, received_at timestamp)
    JOIN drivers d ON d.id = p.driver_id AND d.status IN ('available', 'on_delivery')
    ON CONFLICT (driver_id, captured_at) DO NOTHING
    """
)
_LATEST_SQL = sa.text(
    """
    UPDATE drivers d
    SET current_location = ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326)::geography,
        location_captured_at = p.captured_at
    FROM jsonb_to_recordset(CAST(:latest AS jsonb))
         AS p(driver_id uuid, lat float8, lng float8, captured_at timestamp)
    WHERE d.id = p.driver_id
      AND d.status IN ('available', 'on_delivery')
      AND (d.location_captured_at IS NULL OR d.location_captured_at < p.captured_at)
    """
)


def apply_entries(entries) -> BatchResult:
    """Apply stream entries ``[(id, fields), ...]`` in one transaction (committed by the
    caller): the history of each online driver's pings and their latest position."""
    import json

    pings = []
    latest: dict[str, tuple] = {}
    seen: set[tuple[str, int]] = set()
    for _entry_id, fields in entries:
        decoded = _decode(fields)
        if decoded is None:
            continue
        driver_id, lat, lng, captured_ms, received_ms = decoded
        if len(driver_id) != 36 or (driver_id, captured_ms) in seen:
            continue
        seen.add((driver_id, captured_ms))
        captured = _ms_to_datetime(captured_ms).replace(tzinfo=None).isoformat()
        received = _ms_to_datetime(received_ms).replace(tzinfo=None).isoformat()
        pings.append(
            {
                "driver_id": driver_id,
                "lat": lat,
                "lng": lng,
                "captured_at": captured,
                "received_at": received,
            }
        )
        # In capture order per driver, whatever order the stream holds them in.
        kept = latest.get(driver_id)
        if kept is None or captured_ms > kept[0]:
            latest[driver_id] = (captured_ms, lat, lng, captured)
    if not pings:
        return BatchResult(len(entries), 0, 0)
    recorded = db.session.execute(_HISTORY_SQL, {"pings": json.dumps(pings)}).rowcount
    moved = db.session.execute(
        _LATEST_SQL,
        {
            "latest": json.dumps(
                [
                    {"driver_id": d, "lat": lat, "lng": lng, "captured_at": captured}
                    for d, (_ms, lat, lng, captured) in latest.items()
                ]
            )
        },
    ).rowcount
    return BatchResult(len(entries), recorded, moved)


def ensure_group(client: redis.Redis, key: str) -> None:
    try:
        client.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def consume_once(
    *,
    consumer: str | None = None,
    count: int | None = None,
    block_ms: int | None = None,
    claim_idle_ms: int | None = 60_000,
    recover: bool = True,
) -> BatchResult:
    """Read one batch, apply it, commit, acknowledge. With ``recover`` (the default), first this
    consumer's own unacknowledged entries, then entries another, dead, consumer left for
    ``claim_idle_ms``; then new ones, waiting ``block_ms`` at most."""
    client = get_redis()
    key = stream_key()
    consumer = consumer or consumer_name()
    count = count or current_app.config["POSITION_BATCH_SIZE"]
    entries = []
    if recover:
        ensure_group(client, key)
        entries = _read(client, key, consumer, "0", count, None)
        if not entries and claim_idle_ms is not None:
            claimed = client.xautoclaim(key, GROUP, consumer, claim_idle_ms, "0-0", count=count)
            entries = [e for e in (claimed[1] if len(claimed) > 1 else []) if e[1]]
    if not entries:
        entries = _read(client, key, consumer, ">", count, block_ms)
    if not entries:
        return BatchResult(0, 0, 0)
    try:
        result = apply_entries(entries)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    client.xack(key, GROUP, *[entry_id for entry_id, _ in entries])
    return result


def _read(client, key, consumer, start, count, block_ms):
    answer = client.xreadgroup(GROUP, consumer, {key: start}, count=count, block=block_ms)
    if not answer:
        return []
    entries = answer[0][1]
    trimmed = [entry_id for entry_id, fields in entries if not fields]
    if trimmed:  # pending entries MAXLEN trimmed away meanwhile: nothing left to apply
        client.xack(key, GROUP, *trimmed)
    return [(entry_id, fields) for entry_id, fields in entries if fields]


def drain(max_batches: int = 1000, **options) -> BatchResult:
    """Apply batches until the stream has nothing new (or ``max_batches``)."""
    read = recorded = moved = 0
    for _ in range(max_batches):
        result = consume_once(block_ms=None, **options)
        if result.read == 0:
            break
        read, recorded, moved = read + result.read, recorded + result.recorded, moved + result.moved
    return BatchResult(read, recorded, moved)


def apply_positions_job() -> dict:
    """The minutely safety net: whatever the worker's consumer thread left (or all of it, when
    the worker runs without it)."""
    result = drain(consumer="scheduled-job")
    return {"read": result.read, "recorded": result.recorded, "moved": result.moved}


def run_consumer(app: Flask, stop: threading.Event) -> None:
    """The worker's loop, until ``stop``: apply batches as they come. After a batch smaller than
    ``POSITION_BATCH_SIZE`` it waits ``POSITION_BATCH_PAUSE_MS`` so the next one gathers more
    pings (one transaction per batch, not per ping: that bounds the database's work, and the
    lag stays under the pause plus a batch). Unacknowledged and abandoned entries are recovered
    at start and every ``POSITION_RECOVER_SECONDS``. A failure is logged and retried after a
    second."""
    config = app.config
    consume_until_stopped(
        app,
        stop,
        lambda consumer, recover: (
            consume_once(
                consumer=consumer, block_ms=config["POSITION_BLOCK_MS"], recover=recover
            ).read
        ),
        batch_size=config["POSITION_BATCH_SIZE"],
        pause=config["POSITION_BATCH_PAUSE_MS"] / 1000,
        recover_seconds=config["POSITION_RECOVER_SECONDS"],
        what="position pings",
    )


# --- history and retention ---------------------------------------------------------------------


def history_cutoff(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=current_app.config["POSITION_HISTORY_DAYS"])


def delete_old_positions(
    now: datetime | None = None, *, dry_run: bool = False, batch: int | None = None
) -> int:
    """Delete the position history older than ``POSITION_HISTORY_DAYS``, ``batch`` rows per
    commit (oldest first, on ``idx_driver_positions_captured``); a dry run only counts them."""
    from .models_drivers import DriverPosition

    cutoff = history_cutoff(now)
    if dry_run:
        return db.session.scalar(
            sa.select(sa.func.count()).where(DriverPosition.captured_at < cutoff)
        )
    batch = batch or current_app.config["POSITION_DELETE_BATCH"]
    oldest = (
        sa.select(DriverPosition.id)
        .where(DriverPosition.captured_at < cutoff)
        .order_by(DriverPosition.captured_at)
        .limit(batch)
        .scalar_subquery()
    )
    return delete_in_batches(sa.delete(DriverPosition).where(DriverPosition.id.in_(oldest)), batch)


def delete_old_positions_job() -> int:
    """The daily retention job (portal/scheduling.py)."""
    return delete_old_positions()


@dataclass(frozen=True)
class PositionRow:
    latitude: float
    longitude: float
    captured_at: datetime
    received_at: datetime


def recent_positions(driver_id, limit: int = 100) -> list[PositionRow]:
    """A driver's newest positions within the kept history, newest first."""
    from .models_drivers import DriverPosition

    rows = db.session.execute(
        sa.select(
            sa.func.ST_Y(sa.cast(DriverPosition.position, _geometry())),
            sa.func.ST_X(sa.cast(DriverPosition.position, _geometry())),
            DriverPosition.captured_at,
            DriverPosition.received_at,
        )
        .where(
            DriverPosition.driver_id == driver_id, DriverPosition.captured_at >= history_cutoff()
        )
        .order_by(DriverPosition.captured_at.desc())
        .limit(limit)
    )
    return [PositionRow(*row) for row in rows]


def _geometry():
    from geoalchemy2 import Geometry

    return Geometry(geometry_type="POINT", srid=4326)
