"""Tables the operations jobs write to."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
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
    )

    archived_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        sort_order=1,  # after the mixin's
    )
