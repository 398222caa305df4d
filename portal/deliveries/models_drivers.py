"""A driver's documents and position history (migration 0026; docs/deliveries.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from geoalchemy2 import Geography, WKBElement
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db
from .models import Driver

DOCUMENT_KINDS = ("insurance",)
DOCUMENT_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")


class DriverDocument(db.Model):
    """One document of a driver per kind; a replacement overwrites the row and removes the old
    file. ``path`` is relative to ``PRIVATE_MEDIA_ROOT`` (never served as /media)."""

    __tablename__ = "driver_documents"
    __table_args__ = (
        sa.UniqueConstraint("driver_id", "kind", name="unique_driver_document_kind"),
        sa.CheckConstraint("kind = 'insurance'", name="kind"),
        sa.CheckConstraint(f"content_type IN {DOCUMENT_CONTENT_TYPES!r}", name="content_type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    driver_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("drivers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    path: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(50))
    original_name: Mapped[str | None] = mapped_column(sa.String(255))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    driver: Mapped[Driver] = relationship()

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


class DriverPosition(db.Model):
    """One applied position ping: captured on the phone, received by the endpoint, applied by
    the worker. Unique per driver and capture time, so applying a batch twice adds nothing."""

    __tablename__ = "driver_positions"
    __table_args__ = (
        sa.UniqueConstraint("driver_id", "captured_at", name="unique_driver_position_capture"),
        # The retention delete walks the oldest rows first.
        sa.Index("idx_driver_positions_captured", "captured_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    driver_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("drivers.id", ondelete="CASCADE"))
    position: Mapped[WKBElement] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=sa.func.now())
