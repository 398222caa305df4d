"""What the backup jobs record: one row per backup, restore test and expire run."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime
from ..extensions import db

BACKUP_KINDS = ("full", "incr", "restore_test", "expire")
OUTCOMES = ("running", "succeeded", "failed")


class BackupRun(db.Model):
    """A run of pgBackRest by the portal's jobs, written at its start and updated at its end.

    A backup keeps pgBackRest's ``label``, the restore point made right after it and
    ``reference``: the row counts and money sums of the main tables at that restore point, which
    the restore test compares with what it restored (``portal/operations/backups.py``).
    """

    __tablename__ = "backup_runs"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {BACKUP_KINDS!r}", name="kind"),
        sa.CheckConstraint(f"outcome IN {OUTCOMES!r}", name="outcome"),
        sa.Index("ix_backup_runs_kind_started", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    outcome: Mapped[str] = mapped_column(sa.String(20), server_default="running")
    started_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(sa.String(64))
    restore_point: Mapped[str | None] = mapped_column(sa.String(64))
    reference: Mapped[dict | None] = mapped_column(JSONB)
    # A restore test: the backup it restored.
    backup_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("backup_runs.id", ondelete="SET NULL")
    )
    detail: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
