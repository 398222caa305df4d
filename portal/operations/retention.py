"""The retention jobs' bodies: what each does to a :class:`~portal.operations.runs.Run`, for the
scheduler, the operations page's "run now" and ``flask ops ...`` alike.

The orders archive and the commission aggregation live in their own modules; the referral visits
(``portal/referrals/retention.py``) and the drivers' position history
(``portal/deliveries/positions.py``) have their features' own nightly jobs, reused here for the
commands' dry runs; the development mail folder is pruned here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from .commission_retention import aggregate_old_commissions
from .order_archive import archive_old_orders
from .runs import Run


def archive_orders(run: Run) -> None:
    reports = archive_old_orders(run)
    run.detail["months"] = [report.line() for report in reports]
    detached = [report.detach_ms for report in reports if report.detach_ms is not None]
    if detached:
        run.detail["detach_ms_max"] = round(max(detached), 1)
    done = sum(1 for report in reports if not report.kept_because)
    kept = len(reports) - done
    verb = "would archive" if run.dry_run else "archived"
    run.summary = f"{verb} {done} months of orders; {kept} kept"


def aggregate_commissions(run: Run) -> None:
    months = aggregate_old_commissions(run)
    run.detail["months"] = [month.line() for month in months]
    kept = sum(1 for month in months if month.kept)
    verb = "would aggregate" if run.dry_run else "aggregated"
    run.summary = f"{verb} {len(months) - kept} months of commission records; {kept} kept"


def prune_referral_visits(run: Run) -> None:
    from ..referrals.models import ShopReferral
    from ..referrals.retention import delete_old_visits, retention_cutoff

    if run.dry_run:
        count = db.session.scalar(
            sa.select(sa.func.count()).where(
                ShopReferral.converted_at.is_(None),
                ShopReferral.first_visit_at < retention_cutoff(),
            )
        )
        run.summary = f"would delete {count} unconverted referral visits"
        return
    run.summary = f"deleted {delete_old_visits()} unconverted referral visits"


def prune_positions(run: Run) -> None:
    from ..deliveries.positions import delete_old_positions

    count = delete_old_positions(dry_run=run.dry_run)
    run.summary = f"{'would delete' if run.dry_run else 'deleted'} {count} driver positions"


def old_mail_files(now: datetime | None = None) -> list[Path]:
    """Messages the file mail backend wrote more than ``MAIL_FOLDER_RETENTION_DAYS`` ago."""
    config = current_app.config
    folder = Path(config["MAIL_FOLDER"])
    if config["MAIL_BACKEND"] != "file" or not folder.is_dir():
        return []
    cutoff = (now or utcnow()).timestamp() - config["MAIL_FOLDER_RETENTION_DAYS"] * 86400
    return sorted(p for p in folder.glob("*.eml") if p.stat().st_mtime < cutoff)


def prune_mail_folder(run: Run) -> None:
    files = old_mail_files()
    if not run.dry_run:
        for path in files:
            path.unlink(missing_ok=True)
    verb = "would delete" if run.dry_run else "deleted"
    run.summary = f"{verb} {len(files)} stored mail messages"
