"""Shops (vendors) and the users who run them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from geoalchemy2 import Geography, WKBElement
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User
    from ..payouts.models import ConnectedAccount
    from ..tiers.models import ShopTier

VENDOR_STATUSES = ("pending", "active", "suspended")
MEMBER_ROLES = ("owner", "staff")


class Vendor(db.Model):
    __tablename__ = "vendors"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {VENDOR_STATUSES!r}", name="status"),
        sa.Index("idx_vendor_location", "location", postgresql_using="gist"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    slug: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    # An open set (shop, restaurant, grocery, ...): the fee schedule in config is keyed by it.
    vendor_type: Mapped[str] = mapped_column(sa.String(20), server_default="shop")
    pickup_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    location: Mapped[WKBElement | None] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False)
    )
    referral_code: Mapped[str | None] = mapped_column(sa.String(50), unique=True)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="active")
    contact_email: Mapped[str | None] = mapped_column(sa.String(255))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    # Relative to MEDIA_ROOT; the upload is resized before it is stored.
    logo_path: Mapped[str | None] = mapped_column(sa.String(255))
    # {"mon": [["09:00", "17:00"]], ...}: zero or more open intervals per weekday.
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    members: Mapped[list[VendorMember]] = relationship(
        back_populates="vendor", cascade="all, delete-orphan"
    )
    tier: Mapped[ShopTier | None] = relationship(back_populates="shop")
    connected_account: Mapped[ConnectedAccount | None] = relationship(back_populates="vendor")

    def __repr__(self) -> str:
        return f"<Vendor {self.slug}>"


class VendorMember(db.Model):
    """A user's membership of a shop: this is how a vendor user belongs to a vendor."""

    __tablename__ = "vendor_members"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "user_id", name="unique_vendor_member"),
        sa.CheckConstraint(f"role IN {MEMBER_ROLES!r}", name="role"),
        sa.Index("idx_vendor_members_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(20), server_default="staff")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    vendor: Mapped[Vendor] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class VendorInvitation(db.Model):
    """An owner's invitation for someone to join the shop as staff, by a link with a token.

    Only a hash of the token is stored: the link itself is shown once, to the owner.
    """

    __tablename__ = "vendor_invitations"
    __table_args__ = (sa.Index("idx_vendor_invitations_vendor", "vendor_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(255))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    vendor: Mapped[Vendor] = relationship()
