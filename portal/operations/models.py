"""Tables the operations jobs write to."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime
from ..extensions import db
from ..orders.models import OrderColumns, order_checks


class ArchivedOrder(OrderColumns, db.Model):
    """Orders older than the retention window, copied out of the partitioned ``orders`` table.

    Same columns in the same order as ``orders`` (plus ``archived_at`` last), so the retention job
    can copy with ``INSERT INTO archived_orders SELECT o.*, now() FROM orders o``. Not partitioned:
    it is cold, and its primary key is ``id`` alone.
    """

    __tablename__ = "archived_orders"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id"),
        *order_checks(),
        sa.Index("idx_archived_orders_vendor_date", "vendor_id", "created_at"),
        # The customer's page lists their archived orders (portal/operations/history.py).
        sa.Index("idx_archived_orders_customer_date", "customer_id", "created_at"),
    )

    archived_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        sort_order=1,  # after the mixin's
    )


#: How a job run ended; ``running`` until it does.
JOB_OUTCOMES = ("running", "succeeded", "failed", "skipped")


class JobRun(db.Model):
    """One run of a retention or maintenance job (``portal/operations/runs.py``)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.CheckConstraint(f"outcome IN {JOB_OUTCOMES!r}", name="outcome"),
        sa.Index("idx_job_runs_job_started", "job_name", sa.text("started_at DESC")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(60))
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(sa.String(20), server_default="running")
    dry_run: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    # "orders_2024_03: copying orders" while running; what it did, in a line, once it ended.
    progress: Mapped[str | None] = mapped_column(sa.String(255))
    summary: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    @property
    def duration(self) -> timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None


class ArchivedOrderRow(db.Model):
    """A row that referenced an archived order, kept whole as JSONB under its table and key."""

    __tablename__ = "archived_order_rows"
    __table_args__ = (
        sa.PrimaryKeyConstraint("source_table", "row_key"),
        sa.Index("idx_archived_order_rows_order", "order_id"),
    )

    source_table: Mapped[str] = mapped_column(sa.String(63))
    row_key: Mapped[str] = mapped_column(sa.String(255))
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    archived_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )


class AggregatedCommissionPayout(db.Model):
    """What a payout paid in commission records later aggregated into ``commission_summaries``."""

    __tablename__ = "aggregated_commission_payouts"

    payout_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payouts.id"), primary_key=True)
    shop_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    month: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    record_count: Mapped[int] = mapped_column(sa.Integer)
    total_amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
