"""A customer's rating of a delivery, from the tracking page (portal/deliveries/tracking.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from .models import DeliveryAssignment, Driver

RATING_STARS = (1, 2, 3, 4, 5)


class DeliveryRating(db.Model):
    """One rating per delivery. ``driver_id`` is the driver who delivered it (NULL for a
    provider's delivery); a driver's ``rating`` is the average of their rows."""

    __tablename__ = "delivery_ratings"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", name="unique_delivery_rating"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        sa.Index("idx_delivery_ratings_driver", "driver_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("delivery_assignments.id", ondelete="CASCADE")
    )
    driver_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("drivers.id"))
    stars: Mapped[int] = mapped_column(sa.SmallInteger)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    assignment: Mapped[DeliveryAssignment] = relationship()
    driver: Mapped[Driver | None] = relationship()
