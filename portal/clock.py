"""The current time as the database stores it: naive UTC (docs/schema.md)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
