"""Retention jobs delete a batch of rows per transaction, never one long lock."""

from __future__ import annotations

from sqlalchemy.sql import Executable

from ..extensions import db


def delete_in_batches(statement: Executable, batch: int) -> int:
    """Run ``statement`` (a DELETE of at most ``batch`` rows) and commit, again and again until a
    run deletes fewer than ``batch``; return how many rows went in all."""
    total = 0
    while True:
        deleted = db.session.execute(
            statement, execution_options={"synchronize_session": False}
        ).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch:
            return total
