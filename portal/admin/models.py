"""The audit trail of admins' money actions: who did what to which thing, and when."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User


class AuditEvent(db.Model):
    """One money action (a payout run started, a retry, a reversal, a hold lifted, ...).

    Rows are only ever added. ``actor_id`` is NULL for the scheduler's own actions.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("idx_audit_events_created", sa.text("created_at DESC")),
        sa.Index("idx_audit_events_subject", "subject_type", "subject_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(50))
    subject_type: Mapped[str] = mapped_column(sa.String(30))
    subject_id: Mapped[str] = mapped_column(sa.String(255))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    actor: Mapped[User | None] = relationship()
