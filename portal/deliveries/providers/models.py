"""What the portal keeps of a delivery handed to an external provider, and the provider's events.

``provider_deliveries`` is one row per delivery assignment sent out (the assignment's own
``provider``, ``provider_reference_id`` and ``tracking_url`` say who and where): the quote, the
fee the provider charges (the delivery margin is the customer's delivery fee less it), and the
provider's latest driver position and name, which the tracking page shows. ``provider_events``
keeps every status webhook once, so a replay finds its row and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from geoalchemy2 import Geography, WKBElement
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...clock import UTCDateTime
from ...extensions import db

if TYPE_CHECKING:
    from ..models import DeliveryAssignment

EVENT_OUTCOMES = ("applied", "ignored", "unknown_delivery")


class ProviderDelivery(db.Model):
    __tablename__ = "provider_deliveries"
    __table_args__ = (
        sa.CheckConstraint(
            "quoted_fee >= 0 AND fee >= 0 AND tip >= 0", name="amounts_not_negative"
        ),
        sa.Index("idx_provider_deliveries_booked", "booked_at"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("delivery_assignments.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(sa.String(20))
    # The provider's own words for where the delivery is (``quote``, ``created``, ...).
    provider_status: Mapped[str | None] = mapped_column(sa.String(40))
    quoted_fee: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    quoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quote_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the provider charges for the delivery, once it is booked.
    fee: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    tip: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), server_default="0")
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it was booked: ``accepted_quote`` or ``created`` (the quote ran out first).
    booked_by: Mapped[str | None] = mapped_column(sa.String(20))
    support_reference: Mapped[str | None] = mapped_column(sa.String(100))
    driver_name: Mapped[str | None] = mapped_column(sa.String(100))
    driver_location: Mapped[WKBElement | None] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    driver_location_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the last attempt to book the delivery failed, until one succeeds.
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the provider refused to cancel, when it did.
    cancel_refusal: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    assignment: Mapped[DeliveryAssignment] = relationship()

    @property
    def margin(self) -> Decimal | None:
        """The customer's delivery fee less what the provider charges: negative when the
        platform absorbs the difference."""
        if self.fee is None or self.assignment.customer_delivery_fee is None:
            return None
        return self.assignment.customer_delivery_fee - self.fee - self.tip


class ProviderEvent(db.Model):
    """One status webhook, kept once by its key (the provider's event id, or a digest of what
    identifies the event when the provider sends none, as DoorDash does)."""

    __tablename__ = "provider_events"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_key", name="unique_provider_event"),
        sa.CheckConstraint(f"outcome IN {EVENT_OUTCOMES!r}", name="outcome"),
        sa.Index("idx_provider_events_assignment", "assignment_id", "event_created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_key: Mapped[str] = mapped_column(sa.String(64))
    event_name: Mapped[str] = mapped_column(sa.String(64))
    external_delivery_id: Mapped[str] = mapped_column(sa.String(255))
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("delivery_assignments.id", ondelete="CASCADE")
    )
    event_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    # The status it moved the delivery to, when it moved it.
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
