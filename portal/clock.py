"""The one clock: every "now", "today" and "this month" of the portal, in UTC.

Code works with aware datetimes in UTC. The database stores naive UTC (``timestamp without time
zone``, docs/schema.md): :class:`UTCDateTime`, the type of every timestamp column, is that
boundary, and the session's ``TimeZone`` is pinned to UTC (``SQLALCHEMY_ENGINE_OPTIONS``) so
``now()`` and ``CURRENT_TIMESTAMP`` defaults are UTC too. Money months are UTC months; pages show
times in ``MARKETPLACE_TIMEZONE`` through the ``localtime`` template filter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import Flask, current_app

from .periods import Period


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC (the day money and schedules count in)."""
    return utcnow().date()


def this_month() -> Period:
    """The UTC month running now."""
    return Period.containing(utcnow())


class UTCDateTime(sa.TypeDecorator):
    """A timestamp column: naive UTC in the database, aware UTC in Python.

    A naive datetime is refused rather than guessed at: it would be read as UTC whatever it meant.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"a timestamp column takes a datetime, not {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (portal.clock.utcnow)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def coerce_compared_value(self, op, value):
        # ``paid_at + timedelta(days=14)``: the literal is an interval, not a timestamp.
        return sa.Interval() if isinstance(value, timedelta) else self

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware moment in UTC; a naive one (an old link, say) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def marketplace_zone(app: Flask | None = None) -> ZoneInfo:
    """The ``MARKETPLACE_TIMEZONE`` zone; an unknown name is an error that says what to set."""
    name = (app or current_app).config["MARKETPLACE_TIMEZONE"]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise RuntimeError(
            f"MARKETPLACE_TIMEZONE={name!r} is not a time zone: "
            "set an IANA name such as America/Los_Angeles."
        ) from error


def local_time(value: datetime | None, format: str = "%d %b %Y, %H:%M") -> str:
    """Template filter ``localtime``: a moment as the marketplace's city reads it (``%Z``: PST)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # a value that did not come through UTCDateTime: it is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(marketplace_zone()).strftime(format)
