"""What the operations page shows of backups: the latest backup, WAL archiving and the last
restore test, or why backups are not configured here (``templates/admin/_backups.html``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app

from ..extensions import db
from .backups import Configuration, configuration
from .backups_alerts import ArchiveStatus, archive_status
from .backups_models import BackupRun

OUTCOME_TONES = {"succeeded": "success", "failed": "critical", "running": "info"}


@dataclass(frozen=True)
class BackupOverview:
    configuration: Configuration
    latest_backup: BackupRun | None
    latest_restore_test: BackupRun | None
    archive: ArchiveStatus | None
    lag_threshold_seconds: int

    @property
    def archive_lagging(self) -> bool:
        return self.archive is not None and self.archive.lagging(self.lag_threshold_seconds)


def _latest(*kinds: str) -> BackupRun | None:
    return db.session.scalars(
        sa.select(BackupRun)
        .where(BackupRun.kind.in_(kinds))
        .order_by(BackupRun.started_at.desc(), BackupRun.id.desc())
        .limit(1)
    ).first()


def backup_overview() -> BackupOverview:
    state = configuration()
    archive = None
    if state.configured:
        try:
            with db.session.begin_nested():
                archive = archive_status()
        except sa.exc.DBAPIError:  # pg_ls_archive_statusdir needs pg_monitor (docs/operations.md)
            archive = None
    return BackupOverview(
        configuration=state,
        latest_backup=_latest("full", "incr"),
        latest_restore_test=_latest("restore_test"),
        archive=archive,
        lag_threshold_seconds=current_app.config["BACKUP_ARCHIVE_LAG_ALERT_SECONDS"],
    )


def init_app(app: Flask) -> None:
    # The operations page's partial asks for the overview itself, whoever renders the page.
    app.jinja_env.globals["backup_overview"] = backup_overview
    app.jinja_env.globals["backup_outcome_tone"] = OUTCOME_TONES.get
