"""Background jobs of the tiers: the month-end close and the daily end of promotions.

They run inside the app context the RQ worker provides, reload everything from the database, and
commit once. Re-running any of them is harmless: the close and the expiry are idempotent.
"""

from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..periods import Period
from ..queues import enqueue
from .close import CommittedProgress, MonthCloseError, run_month_close
from .models import MonthClose
from .promotions import expire_promotions

#: A close of a million orders takes seconds (docs/performance.md); this leaves ample room.
CLOSE_JOB_TIMEOUT = 30 * 60


def enqueue_month_close(close: MonthClose):
    """Put a requested close on the queue. Call it after the commit that queued the row."""
    return enqueue(
        close_month_job,
        close.year,
        close.month,
        job_id=close.job_id,
        job_timeout=CLOSE_JOB_TIMEOUT,
        description=f"month-end close {Period(close.year, close.month)}",
    )


def close_month_and_commit(year: int, month: int, *, progress=None) -> MonthClose:
    """Run the close and commit its result; on an error, commit its failure (the data was
    rolled back by the close) and re-raise."""
    try:
        close = run_month_close(year, month, progress=progress)
    except MonthCloseError:
        db.session.rollback()  # refused before anything was written
        raise
    except Exception:
        db.session.commit()
        raise
    db.session.commit()
    return close


def close_month_job(year: int, month: int) -> dict:
    """Close a finished month, reporting progress on its ``month_closes`` row as it goes."""
    close = close_month_and_commit(year, month, progress=CommittedProgress(year, month))
    return close.summary


def close_previous_month_job() -> dict:
    """The scheduled close, early on the 1st: close the month that just ended."""
    previous = Period.containing(utcnow()).previous()
    return close_month_job(previous.year, previous.month)


def expire_promotions_job() -> int:
    """End the promotions whose end date has come: they end on their date, not at month end."""
    ended = expire_promotions()
    db.session.commit()
    return ended
