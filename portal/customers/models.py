"""Customers: a user's buyer profile."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User
    from ..loyalty.models import PointsBalance


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    default_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    user: Mapped[User] = relationship()
    points_balance: Mapped[PointsBalance | None] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"<Customer {self.full_name}>"


# A shop searches its orders by a part of the customer's name (``ILIKE '%…%'``): trigrams find
# the few matching customers without reading them all (pg_trgm, migration 0012).
sa.Index(
    "idx_customers_name_trgm",
    Customer.full_name,
    postgresql_using="gin",
    postgresql_ops={"full_name": "gin_trgm_ops"},
)
