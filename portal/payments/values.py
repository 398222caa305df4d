"""Reading the values of a signed Stripe object: a Unix time, a number of cents. A value that is
not one raises ``ValueError`` (the webhook answers 400, nothing kept)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def moment(unix: Any) -> datetime:
    if not isinstance(unix, int) or isinstance(unix, bool):
        raise ValueError("not a Unix time")
    return datetime.fromtimestamp(unix, UTC)


def cents(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a number of cents")
    return value
