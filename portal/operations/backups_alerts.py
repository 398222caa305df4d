"""WAL archiving's health, and the mails that tell the admins a backup needs them.

A failed backup, restore test or expire run mails every admin once (the run is the event). WAL
archiving is watched by a minutely job: archiving that fails, or a segment waiting longer than
``BACKUP_ARCHIVE_LAG_ALERT_SECONDS``, mails them, and the same problem again at most every
``BACKUP_ALERT_REPEAT_SECONDS`` (a Redis ``SET NX`` marker, shared by every worker).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..clock import as_utc, utcnow
from ..extensions import db
from ..mail import public_url, send_after_commit
from ..queues import get_redis
from .backups import _if_configured
from .backups_models import BackupRun

log = logging.getLogger(__name__)

RUN_WORDS = {
    "full": "The full backup",
    "incr": "The incremental backup",
    "restore_test": "The restore test",
    "expire": "The backup cleanup (expire)",
}


@dataclass(frozen=True)
class ArchiveStatus:
    """What ``pg_stat_archiver`` and the archive status folder say."""

    last_archived_wal: str | None
    last_archived_at: datetime | None
    last_failed_wal: str | None
    last_failed_at: datetime | None
    waiting_segments: int
    lag_seconds: float  # how long the oldest segment not yet archived has waited

    @property
    def failing(self) -> bool:
        return self.last_failed_at is not None and (
            self.last_archived_at is None or self.last_failed_at > self.last_archived_at
        )

    def lagging(self, threshold: float) -> bool:
        return self.lag_seconds > threshold


def archive_status() -> ArchiveStatus:
    row = db.session.execute(
        sa.text(
            "SELECT last_archived_wal, last_archived_time, last_failed_wal, last_failed_time,"
            " (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'),"
            " (SELECT min(modification) FROM pg_ls_archive_statusdir()"
            "   WHERE name LIKE '%.ready'), now() FROM pg_stat_archiver"
        )
    ).one()
    oldest, now = row[5], row[6]
    return ArchiveStatus(
        last_archived_wal=row[0],
        last_archived_at=as_utc(row[1]) if row[1] else None,
        last_failed_wal=row[2],
        last_failed_at=as_utc(row[3]) if row[3] else None,
        waiting_segments=row[4],
        lag_seconds=(now - oldest).total_seconds() if oldest else 0.0,
    )


def admin_emails() -> list[str]:
    return list(db.session.scalars(sa.select(User.email).where(User.role == "admin")))


def mail_admins(problem: str, detail: str) -> int:
    """Mail every admin about ``problem`` (committed here, so the mail jobs are queued)."""
    link = public_url("admin.operations")
    addresses = admin_emails()
    for address in addresses:
        send_after_commit(address, "backup_alert", problem=problem, detail=detail, link=link)
    db.session.commit()
    if not addresses:
        log.error("backup problem and no admin to mail: %s: %s", problem, detail)
    return len(addresses)


def alert_failed_run(record: BackupRun) -> int:
    return mail_admins(f"{RUN_WORDS[record.kind]} failed", record.detail or "")


def _first_in_a_while(key: str) -> bool:
    config = current_app.config
    marker = ":".join((config["RQ_KEY_PREFIX"], "backup-alert", key))
    return bool(
        get_redis().set(
            marker, utcnow().isoformat(), nx=True, ex=config["BACKUP_ALERT_REPEAT_SECONDS"]
        )
    )


def check_archiving() -> list[str]:
    """Mail the admins about archiving that fails or lags; return the problems found."""
    status = archive_status()
    threshold = current_app.config["BACKUP_ARCHIVE_LAG_ALERT_SECONDS"]
    problems = []
    if status.failing:
        problems.append("archive-failing")
        if _first_in_a_while("archive-failing"):
            mail_admins(
                "WAL archiving is failing",
                f"The server could not archive {status.last_failed_wal} (last attempt "
                f"{status.last_failed_at:%Y-%m-%d %H:%M} UTC); {status.waiting_segments} "
                "segments wait. The database's log and pgBackRest's say why.",
            )
    if status.lagging(threshold):
        problems.append("archive-lag")
        if _first_in_a_while("archive-lag"):
            mail_admins(
                "WAL archiving is falling behind",
                f"The oldest WAL segment not yet archived has waited "
                f"{status.lag_seconds / 60:.0f} minutes ({status.waiting_segments} waiting; "
                f"the alert is at {threshold / 60:.0f} minutes).",
            )
    return problems


@_if_configured
def check_archiving_job() -> list[str]:
    """Minutely: watch WAL archiving."""
    return check_archiving()
