"""Background jobs of commissions. They run inside the app context the RQ worker provides."""

from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from .services import settle_due_commissions


def settle_commissions_job() -> int:
    """Settle the commissions whose return window has passed, and the drivers' earnings due
    (``DRIVER_EARNINGS_SETTLE_DAYS`` after delivery). Idempotent: a second run settles nothing
    new, so the daily schedule may run it late or twice."""
    from ..payouts.driver_earnings import settle_due_driver_earnings

    now = utcnow()
    settled = settle_due_commissions(now)
    settled += settle_due_driver_earnings(now)
    db.session.commit()
    return settled
