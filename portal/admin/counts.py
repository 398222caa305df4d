"""The admin sidebar's counts that ask for action, each cheap enough to poll from every page.

The sidebar loads each as a small fragment after the page (``admin.count``), like the vendor's
orders badge, so they add nothing to the page's own statements. Each is bounded:

- orders waiting on completion: a count stopped at ``CAP + 1`` rows, served by the partial index
  ``idx_orders_awaiting_completion`` (paid, not completed, not canceled);
- drivers awaiting verification: the drivers table has no index for it, so the capped count is
  kept in Redis for ``ADMIN_COUNT_CACHE_SECONDS``;
- failed payouts: a capped count served by the partial index ``idx_payouts_unfinished``;
- failed jobs: a ``ZCOUNT`` per queue of RQ's failed job registries (``operations.failed_jobs``).

Above ``CAP`` the sidebar says "99+".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
import sqlalchemy as sa
from flask import current_app

from ..deliveries.models import Driver
from ..operations.failed_jobs import failed_job_count
from ..orders.completion import waiting_on_auto_completion
from ..orders.models import Order
from ..pagination import capped_count
from ..payouts.summary import failed_payouts_query
from ..queues import get_redis
from .overview import awaiting_verification

logger = logging.getLogger(__name__)

CAP = 99


@dataclass(frozen=True)
class NavCount:
    value: int
    noun: str  # "orders waiting", for the screen reader

    @property
    def label(self) -> str:
        return f"{CAP}+" if self.value > CAP else f"{self.value:,}"


def orders_waiting() -> int:
    return capped_count(sa.select(Order.id).where(waiting_on_auto_completion()), CAP)


def failed_payouts() -> int:
    return capped_count(failed_payouts_query(), CAP)


def drivers_to_verify() -> int:
    return _cached(
        "drivers-to-verify",
        lambda: capped_count(sa.select(Driver.id).where(awaiting_verification()), CAP),
    )


def _cached(name: str, compute: Callable[[], int]) -> int:
    """``compute()``, kept in Redis a short while; computed afresh when Redis cannot answer."""
    key = f"{current_app.config['RQ_KEY_PREFIX']}:admin-count:{name}"
    try:
        kept = get_redis().get(key)
        if kept is not None:
            return int(kept)
    except redis.RedisError:
        logger.warning("Redis did not answer for the %s count; counting afresh.", name)
        return compute()
    value = compute()
    with contextlib.suppress(redis.RedisError):  # counted anyway; the next poll tries again
        get_redis().set(key, value, ex=current_app.config["ADMIN_COUNT_CACHE_SECONDS"])
    return value


def forget(name: str) -> None:
    """Drop a kept count (a verdict changed who waits): the next poll counts afresh."""
    with contextlib.suppress(redis.RedisError):
        get_redis().delete(f"{current_app.config['RQ_KEY_PREFIX']}:admin-count:{name}")


#: name in the URL -> (how to count, what the number counts, singular and plural)
COUNTS: dict[str, tuple[Callable[[], int], str, str]] = {
    "orders-waiting": (orders_waiting, "order waiting", "orders waiting"),
    "drivers-to-verify": (drivers_to_verify, "driver to verify", "drivers to verify"),
    "failed-jobs": (failed_job_count, "failed job", "failed jobs"),
    "failed-payouts": (failed_payouts, "failed payout", "failed payouts"),
}


def nav_count(name: str) -> NavCount | None:
    """The named count for the sidebar; None (nothing shown) when Redis cannot answer for it."""
    count, one, many = COUNTS[name]
    try:
        value = count()
    except redis.RedisError:
        logger.warning("Redis did not answer for the %s count.", name)
        return None
    return NavCount(value, one if value == 1 else many)
