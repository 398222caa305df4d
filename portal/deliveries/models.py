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
    "arrived_at_return",  # missing from PRODUCT.md's list (docs/deliveries.md)
    "returned",
)

# A driver's own availability; `on_delivery` while an accepted delivery is under way.
DRIVER_STATUSES = ("offline", "available", "on_delivery")
BACKGROUND_CHECK_STATUSES = ("pending", "clear", "consider", "suspended", "failed")

# Who moved a delivery: its driver, the shop, an admin, the provider's webhook, or a job.
#: What the geocoder made of a dropoff address without a point (portal/deliveries/geocoding.py).
GEOCODE_OUTCOMES = ("found", "not_found", "failed")
STATUS_SOURCES = ("driver", "vendor", "admin", "provider", "system")

# An offer to a driver is tracked apart from the delivery's status (PRODUCT.md).
OFFER_OUTCOMES = ("pending", "accepted", "declined", "expired", "withdrawn")


class Driver(db.Model):
    __tablename__ = "drivers"
    __table_args__ = (
        # A user has at most one driver profile; NULL (no login yet) stays allowed.
        sa.UniqueConstraint("user_id", name="unique_driver_user"),
        sa.CheckConstraint("rating >= 0 AND rating <= 5", name="rating_range"),
        sa.CheckConstraint("total_deliveries >= 0", name="total_deliveries_not_negative"),
        sa.CheckConstraint("total_earnings >= 0", name="total_earnings_not_negative"),
        sa.CheckConstraint(f"status IN {DRIVER_STATUSES!r}", name="status"),
        sa.CheckConstraint(
            f"background_check_status IN {BACKGROUND_CHECK_STATUSES!r}", name="background_check"
        ),
        sa.Index("idx_driver_location", "current_location", postgresql_using="gist"),
        sa.Index("idx_driver_status", "status", postgresql_where=sa.text("status = 'available'")),
        # The dispatch KNN scan: the design's btree on status cannot order by distance
        # (a documented adaptation, docs/deliveries.md).
        sa.Index(
            "idx_driver_available_location",
            "current_location",
            postgresql_using="gist",
            postgresql_where=sa.text("status = 'available'"),
        ),
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
    # Pay plus tips of every delivered delivery (migration 0025), kept by the delivered effect.
    total_earnings: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )
    # Added by migration 0026: the admin's last verdict (the note the driver reads), and when the
    # phone captured current_location (a late, older ping never replaces a newer one).
    verification_note: Mapped[str | None] = mapped_column(sa.Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    location_captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
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
        sa.Index("idx_delivery_vendor", "vendor_id", sa.text("created_at DESC")),
        sa.UniqueConstraint("tracking_token", name="unique_delivery_tracking_token"),
        sa.CheckConstraint("driver_tip >= 0", name="driver_tip_not_negative"),
        sa.CheckConstraint(f"dropoff_geocode IN {GEOCODE_OUTCOMES!r}", name="dropoff_geocode"),
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
    # Added by migration 0018: the shop, both points, the ETA, the customer's tracking token, and
    # why a delivery was cancelled or returned.
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("vendors.id"))
    pickup_location: Mapped[WKBElement | None] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    dropoff_location: Mapped[WKBElement | None] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    eta_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    tracking_token: Mapped[str | None] = mapped_column(sa.String(64))
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Added by migration 0025: the PIN the customer gives the driver as proof (shown on the
    # tracking page), and the customer's tip for the driver (earnings are pay plus tips).
    delivery_pin: Mapped[str | None] = mapped_column(sa.String(8))
    driver_tip: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), server_default="0")
    # Added by migration 0030: how the dropoff point was found (NULL: the order carried it).
    dropoff_geocode: Mapped[str | None] = mapped_column(sa.String(20))
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
    history: Mapped[list[DeliveryStatusChange]] = relationship(
        back_populates="assignment", order_by="DeliveryStatusChange.at"
    )
    offers: Mapped[list[DeliveryOffer]] = relationship(back_populates="assignment")


class DeliveryStatusChange(db.Model):
    """One step of a delivery's status, with who made it (portal/deliveries/states.py)."""

    __tablename__ = "delivery_status_history"
    __table_args__ = (
        sa.CheckConstraint(f"source IN {STATUS_SOURCES!r}", name="source"),
        sa.Index("idx_delivery_status_history", "assignment_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("delivery_assignments.id", ondelete="CASCADE")
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    assignment: Mapped[DeliveryAssignment] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class DeliveryOffer(db.Model):
    """A delivery offered to one driver, until they accept, decline or it expires.

    A driver holds at most one pending offer, and a delivery is pending with at most one driver
    at a time (partial unique indexes): two dispatches cannot hand one driver two offers.
    """

    __tablename__ = "delivery_offers"
    __table_args__ = (
        sa.CheckConstraint(f"outcome IN {OFFER_OUTCOMES!r}", name="outcome"),
        sa.Index(
            "unique_pending_offer_per_driver",
            "driver_id",
            unique=True,
            postgresql_where=sa.text("outcome = 'pending'"),
        ),
        sa.Index(
            "unique_pending_offer_per_assignment",
            "assignment_id",
            unique=True,
            postgresql_where=sa.text("outcome = 'pending'"),
        ),
        sa.Index("idx_delivery_offers_assignment", "assignment_id", "driver_id"),
        sa.Index(
            "idx_delivery_offers_expiry",
            "expires_at",
            postgresql_where=sa.text("outcome = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("delivery_assignments.id", ondelete="CASCADE")
    )
    driver_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("drivers.id"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The distance from the driver to the pickup when offered, in miles.
    pickup_distance_miles: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))

    assignment: Mapped[DeliveryAssignment] = relationship(back_populates="offers")
    driver: Mapped[Driver] = relationship()


class DriverRequest(db.Model):
    """A driver's request sent with an ``Idempotency-Key``, and the response it got
    (portal/deliveries/idempotency.py)."""

    __tablename__ = "driver_requests"
    __table_args__ = (sa.Index("idx_driver_requests_created", "created_at"),)

    driver_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("drivers.id", ondelete="CASCADE"), primary_key=True
    )
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(sa.String(100))
    status_code: Mapped[int | None] = mapped_column(sa.SmallInteger)
    body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
