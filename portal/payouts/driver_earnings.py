"""Drivers' earnings: written at delivery, settled like commissions, paid by the payout run.

One ``driver_earnings`` row per delivered delivery of a driver (pay plus tip), written by the
delivered effect in the step's transaction; unique on the delivery, so a replayed step or a late
webhook adds nothing. It settles ``DRIVER_EARNINGS_SETTLE_DAYS`` after the delivery (by the daily
settle job, beside the commissions), and the payout run pays the settled ones
(``driver_runs.py``): ``paid`` with the payout's id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from ..extensions import db
from .driver_models import DriverEarning


def record_earning(assignment, at: datetime) -> None:
    """The driver's earning of this delivered delivery, once (not committed)."""
    if assignment.driver_id is None:
        return  # an external provider's delivery: its courier is paid by the provider
    pay = assignment.driver_pay or Decimal("0")
    tip = assignment.driver_tip or Decimal("0")
    db.session.execute(
        insert(DriverEarning)
        .values(
            driver_id=assignment.driver_id,
            delivery_id=assignment.id,
            pay=pay,
            tip=tip,
            amount=pay + tip,
            delivered_at=at,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id"])
    )


def settle_due_driver_earnings(now: datetime) -> int:
    """Settle the pending earnings delivered ``DRIVER_EARNINGS_SETTLE_DAYS`` ago or more; one
    set-based UPDATE, so running it again changes nothing. Returns how many settled."""
    due_before = now - timedelta(days=current_app.config["DRIVER_EARNINGS_SETTLE_DAYS"])
    result = db.session.execute(
        sa.update(DriverEarning)
        .where(DriverEarning.status == "pending", DriverEarning.delivered_at <= due_before)
        .values(status="settled", settled_at=now)
        .execution_options(synchronize_session=False)
    )
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, DriverEarning):
            db.session.expire(obj, ["status", "settled_at"])
    return result.rowcount
