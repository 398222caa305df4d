"""The audit trail of money actions: every one writes a row, in the transaction that does it."""

from __future__ import annotations

from typing import Any

from ..auth.models import User
from ..extensions import db
from .models import AuditEvent


def record(
    action: str, subject_type: str, subject_id: object, *, actor: User | None, **detail: Any
) -> AuditEvent:
    """Add an audit row for ``action`` on ``subject_type`` ``subject_id`` to the session.

    ``actor`` is the admin who acted, or None for the scheduler. Not committed here: the row
    lands with the action it records, or not at all.
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        detail=detail or None,
    )
    db.session.add(event)
    return event
