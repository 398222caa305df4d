"""Background jobs of operations. They run inside the app context the RQ worker provides."""

from __future__ import annotations

from ..extensions import db
from .partitions import ensure_partitions


def ensure_partitions_job() -> list[str]:
    """Create the partitions the coming periods need. Idempotent: safe to run at any interval."""
    created = ensure_partitions()
    db.session.commit()
    return created
