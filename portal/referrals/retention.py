"""Retention: unconverted referral visits older than ``REFERRAL_RETENTION_DAYS`` are deleted.

Nightly (portal/scheduling.py), oldest first, ``REFERRAL_DELETE_BATCH`` rows per transaction
(``idx_referrals_unconverted_first_visit``), so no lock is held long and a visit being converted
right now is skipped rather than waited for. ``referral_daily_stats`` is never touched: the
statistics of any period stay as they were counted. A converted visit is kept (its orders'
``referral_orders`` rows name it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from ..clock import utcnow
from ..operations.batches import delete_in_batches
from .models import ShopReferral


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=current_app.config["REFERRAL_RETENTION_DAYS"])


def delete_old_visits(now: datetime | None = None, *, batch: int | None = None) -> int:
    """Delete unconverted visits past the cutoff, ``batch`` rows per commit; return how many."""
    cutoff = retention_cutoff(now)
    batch = batch or current_app.config["REFERRAL_DELETE_BATCH"]
    # A CTE, run once: as an IN subquery PostgreSQL may rescan it per row, and rows this
    # statement already deleted are then skipped as locked, so the LIMIT would not hold.
    old = aliased(ShopReferral)
    oldest = (
        sa.select(old.id)
        .where(old.converted_at.is_(None), old.first_visit_at < cutoff)
        .order_by(old.first_visit_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
        .cte("oldest")
    )
    return delete_in_batches(sa.delete(ShopReferral).where(ShopReferral.id == oldest.c.id), batch)


def delete_old_visits_job() -> int:
    """The nightly retention job (portal/scheduling.py)."""
    return delete_old_visits()
