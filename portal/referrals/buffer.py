"""First visits through Redis: the link appends them to a stream, the worker applies them in
batches, the way drivers' position pings are (portal/deliveries/positions.py).

With ``REFERRAL_VISIT_BUFFER`` on, the WSGI layer (``redirects.py``) answers a first visit of a
code it knows with ``XADD <RQ_KEY_PREFIX>:referral-visits`` and the cookie, never waiting for the
database; the worker's consumer thread (``worker.py``; the minutely job ``apply_visits_job`` drains
what is left if it does not run) reads the stream through a consumer group and per batch, in one
statement, inserts the visits (``ON CONFLICT (session_id, shop_id) DO NOTHING``: first touch, a
batch applied twice adds nothing), counts the ones inserted into the day's statistics, commits
and acknowledges. Rows are there a fraction of a second after the visit.

A visitor who signs in before their visit was applied is tied all the same: ``tie_visitor`` also
leaves the customer under ``<prefix>:referral-tie:<visitor>`` for the attribution window, and the
batch applies it to the rows it inserts. If Redis cannot take a visit, the layer lets the Flask
view record it synchronously instead.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime

import redis
from flask import Flask, current_app
from sqlalchemy import text

from ..extensions import db
from ..queues import get_redis
from ..stream_consumers import consume_until_stopped

log = logging.getLogger(__name__)

GROUP = "referral-visit-appliers"


def stream_key(app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    return f"{app.config['RQ_KEY_PREFIX']}:referral-visits"


def tie_key(visitor: str, app: Flask | None = None) -> str:
    app = app or current_app._get_current_object()
    return f"{app.config['RQ_KEY_PREFIX']}:referral-tie:{visitor}"


def append_visit(app: Flask, visitor: str, shop_key: str, code: str, utm, at_ms: int) -> None:
    get_redis(app).xadd(
        stream_key(app),
        {
            "v": visitor,
            "s": shop_key,
            "c": code,
            "us": utm.source or "",
            "um": utm.medium or "",
            "uc": utm.campaign or "",
            "t": str(at_ms),
        },
        maxlen=app.config["REFERRAL_VISIT_STREAM_MAXLEN"],
        approximate=True,
    )


def remember_tie(visitor: str, customer_id: uuid.UUID) -> None:
    """For visits still in the stream when their visitor signs in (``services.tie_visitor``)."""
    app = current_app._get_current_object()
    if not app.config["REFERRAL_VISIT_BUFFER"]:
        return
    try:
        get_redis(app).set(
            tie_key(visitor, app),
            str(customer_id),
            ex=app.config["REFERRAL_ATTRIBUTION_DAYS"] * 24 * 3600,
            nx=True,  # the first customer keeps the visits, as the rows' own tie does
        )
    except redis.RedisError:
        log.warning("could not remember a referral tie in Redis", exc_info=True)


_APPLY_SQL = text(
    """
    WITH incoming AS (
        SELECT * FROM jsonb_to_recordset(CAST(:visits AS jsonb)) AS v(
            session_id text, shop_id uuid, code text, source text, medium text, campaign text,
            at timestamp, customer_id uuid)
    ), new AS (
        INSERT INTO shop_referrals
            (shop_id, session_id, referral_code, utm_source, utm_medium, utm_campaign,
             first_visit_at, customer_id, lifetime_value, total_orders)
        SELECT i.shop_id, i.session_id, i.code, i.source, i.medium, i.campaign, i.at,
               i.customer_id, 0, 0
        FROM incoming i JOIN vendors v ON v.id = i.shop_id
        ON CONFLICT (session_id, shop_id) DO NOTHING
        RETURNING shop_id, first_visit_at, utm_source, utm_medium, utm_campaign
    )
    INSERT INTO referral_daily_stats AS s
        (shop_id, day, utm_source, utm_medium, utm_campaign, visits, conversions, orders, revenue)
    SELECT shop_id, first_visit_at::date, coalesce(utm_source, ''), coalesce(utm_medium, ''),
           coalesce(utm_campaign, ''), count(*), 0, 0, 0
    FROM new GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (shop_id, day, utm_source, utm_medium, utm_campaign)
    DO UPDATE SET visits = s.visits + EXCLUDED.visits
    """
)


def _field(fields: dict, name: str) -> str:
    value = fields.get(name.encode(), fields.get(name))
    text = value.decode(errors="replace") if isinstance(value, bytes) else (value or "")
    return text.replace("\x00", "")  # PostgreSQL cannot store a NUL; one must not stop a batch


def apply_entries(entries, client: redis.Redis | None = None) -> int:
    """Apply stream entries ``[(id, fields), ...]`` in one statement (committed by the caller);
    returns how many distinct first touches the batch held."""
    first: dict[tuple[str, str], dict] = {}
    for _entry_id, fields in entries:
        try:
            visitor, shop = _field(fields, "v"), uuid.UUID(_field(fields, "s"))
            at = datetime.fromtimestamp(int(_field(fields, "t")) / 1000, tz=UTC)
        except (TypeError, ValueError):
            continue
        if not 10 <= len(visitor) <= 64:
            continue
        visit = {
            "session_id": visitor,
            "shop_id": str(shop),
            "code": _field(fields, "c")[:50],
            "source": _field(fields, "us")[:100] or None,
            "medium": _field(fields, "um")[:100] or None,
            "campaign": _field(fields, "uc")[:100] or None,
            "at": at.replace(tzinfo=None).isoformat(),
            "customer_id": None,
        }
        kept = first.get((visitor, visit["shop_id"]))
        if kept is None or visit["at"] < kept["at"]:  # the first touch, whatever the order
            first[(visitor, visit["shop_id"])] = visit
    if not first:
        return 0
    visits = list(first.values())
    client = client or get_redis()
    ties = client.mget([tie_key(v["session_id"]) for v in visits])
    for visit, customer in zip(visits, ties, strict=True):
        if customer:
            visit["customer_id"] = customer.decode() if isinstance(customer, bytes) else customer
    db.session.execute(_APPLY_SQL, {"visits": json.dumps(visits)})
    return len(visits)


def _ensure_group(client: redis.Redis, key: str) -> None:
    try:
        client.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def consume_once(consumer: str, *, block_ms: int | None = None, recover: bool = True) -> int:
    """Read one batch (first this consumer's unacknowledged entries and those a dead consumer
    left a minute, then new ones), apply it, commit, acknowledge; how many entries were read."""
    client = get_redis()
    key = stream_key()
    count = current_app.config["REFERRAL_VISIT_BATCH_SIZE"]
    _ensure_group(client, key)
    entries = []
    if recover:
        entries = _read(client, key, consumer, "0", count, None)
        if not entries:
            claimed = client.xautoclaim(key, GROUP, consumer, 60_000, "0-0", count=count)
            entries = [e for e in (claimed[1] if len(claimed) > 1 else []) if e[1]]
    if not entries:
        entries = _read(client, key, consumer, ">", count, block_ms)
    if not entries:
        return 0
    try:
        apply_entries(entries, client)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    client.xack(key, GROUP, *[entry_id for entry_id, _ in entries])
    return len(entries)


def _read(client, key, consumer, start, count, block_ms):
    answer = client.xreadgroup(GROUP, consumer, {key: start}, count=count, block=block_ms)
    entries = answer[0][1] if answer else []
    trimmed = [entry_id for entry_id, fields in entries if not fields]
    if trimmed:  # trimmed away by MAXLEN meanwhile: nothing left to apply
        client.xack(key, GROUP, *trimmed)
    return [(entry_id, fields) for entry_id, fields in entries if fields]


def drain(consumer: str = "drain", max_batches: int = 1000) -> int:
    """Apply batches until the stream has nothing new; how many entries were read."""
    read = 0
    for _ in range(max_batches):
        batch = consume_once(consumer)
        if not batch:
            break
        read += batch
    return read


def apply_visits_job() -> int:
    """The minutely safety net (portal/scheduling.py): whatever the consumer thread left."""
    return drain(consumer="scheduled-job")


def run_consumer(app: Flask, stop: threading.Event) -> None:
    """The worker's thread, until ``stop``: apply batches as they come, pausing
    ``REFERRAL_VISIT_BATCH_PAUSE_MS`` after a small one so the next gathers more."""
    config = app.config
    consume_until_stopped(
        app,
        stop,
        lambda consumer, recover: consume_once(consumer, block_ms=500, recover=recover),
        batch_size=config["REFERRAL_VISIT_BATCH_SIZE"],
        pause=config["REFERRAL_VISIT_BATCH_PAUSE_MS"] / 1000,
        recover_seconds=30,
        what="referral visits",
    )
