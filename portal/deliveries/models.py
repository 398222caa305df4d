"""Drivers, and the delivery of an order by a driver or an external provider."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from geoalchemy2 import Geography, WKBElement
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from ..orders.models import order_reference

if TYPE_CHECKING:
    from ..auth.models import User
    from ..orders.models import Order

# DoorDash Drive's published status names, so internal and external deliveries read alike.
DELIVERY_STATUSES = (
    "created",
    "confirmed",
    "enroute_to_pickup",
    "arrived_at_pickup",
    "picked_up",
    "enroute_to_dropoff",
    "arrived_at_dropoff",
    "delivered",
    "cancelled",
    "enroute_to_return",
    "returned",
)


class Driver(db.Model):
    __tablename__ = "drivers"
    __table_args__ = (
        # A user has at most one driver profile; NULL (no login yet) stays allowed.
        sa.UniqueConstraint("user_id", name="unique_driver_user"),
        sa.CheckConstraint("rating >= 0 AND rating <= 5", name="rating_range"),
        sa.CheckConstraint("total_deliveries >= 0", name="total_deliveries_not_negative"),
        sa.Index("idx_driver_location", "current_location", postgresql_using="gist"),
        sa.Index("idx_driver_status", "status", postgresql_where=sa.text("status = 'available'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    full_name: Mapped[str] = mapped_column(sa.String(255))
    phone: Mapped[str] = mapped_column(sa.String(20))
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    vehicle_type: Mapped[str] = mapped_column(sa.String(20))
    license_number: Mapped[str] = mapped_column(sa.String(50))
    insurance_verified: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    background_check_status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    current_location: Mapped[WKBElement | None] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    status: Mapped[str] = mapped_column(sa.String(20), server_default="offline")
    total_deliveries: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    rating: Mapped[Decimal | None] = mapped_column(sa.Numeric(3, 2))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    user: Mapped[User | None] = relationship()
    assignments: Mapped[list[DeliveryAssignment]] = relationship(back_populates="driver")

    def __repr__(self) -> str:
        return f"<Driver {self.email} {self.status}>"


class DeliveryAssignment(db.Model):
    __tablename__ = "delivery_assignments"
    __table_args__ = (
        order_reference(),
        sa.CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        sa.CheckConstraint(
            "total_distance_miles >= 0 AND driver_pay >= 0 AND customer_delivery_fee >= 0",
            name="amounts_not_negative",
        ),
        sa.Index("idx_delivery_order", "order_id"),
        sa.Index("idx_delivery_driver", "driver_id"),
        sa.Index("idx_delivery_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    order_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    driver_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("drivers.id"))
    provider: Mapped[str] = mapped_column(sa.String(20))  # 'internal', 'doordash', ...
    provider_reference_id: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="created")
    pickup_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dropoff_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    pickup_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_distance_miles: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    driver_pay: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    customer_delivery_fee: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    route_polyline: Mapped[str | None] = mapped_column(sa.Text)
    tracking_url: Mapped[str | None] = mapped_column(sa.Text)
    proof_of_delivery: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    order: Mapped[Order] = relationship()
    driver: Mapped[Driver | None] = relationship(back_populates="assignments")
