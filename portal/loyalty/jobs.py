"""Background jobs of the points: the nightly settlement and expiry, and the release of lapsed
holds. They run inside the app context the RQ worker provides and commit their own work;
re-running any of them changes nothing more (the statements only touch what is still due)."""

from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from . import points


def nightly_points_job() -> dict[str, int]:
    """Pending earns whose return window closed become ``earned``; then credits past
    ``POINTS_EXPIRY_MONTHS`` are expired, oldest first, one committed batch of customers at a
    time (the balance locks are held for one batch, not the whole run)."""
    now = utcnow()
    settled = points.settle_due(now, after_batch=db.session.commit)
    db.session.commit()
    expired = points.expire_due(now, after_batch=db.session.commit)
    db.session.commit()
    return {"settled": settled, "expired": expired}


def release_points_holds_job() -> int:
    """Holds past their ``expires_at`` (orders never paid, storefront holds never used)."""
    released = points.release_expired_holds(utcnow())
    db.session.commit()
    return released
