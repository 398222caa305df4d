"""Neutral names for products in a sensitive classification, used wherever details leave us."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..catalog.models import Product


class ProductObfuscation(db.Model):
    __tablename__ = "product_obfuscations"
    __table_args__ = (sa.UniqueConstraint("product_id", name="unique_product_obfuscation"),)

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"))
    obfuscated_name: Mapped[str] = mapped_column(sa.String(255))
    obfuscated_description: Mapped[str | None] = mapped_column(sa.Text)
    obfuscated_category: Mapped[str | None] = mapped_column(sa.String(255))
    obfuscated_brand: Mapped[str | None] = mapped_column(sa.String(255))
    classification_code: Mapped[str] = mapped_column(
        sa.ForeignKey(
            "obfuscation_classifications.classification_code",
            name="fk_product_obfuscations_classification",
            onupdate="CASCADE",
        )
    )
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    product: Mapped[Product] = relationship(back_populates="obfuscation")
    classification: Mapped[ObfuscationClassification] = relationship(lazy="joined")


class ObfuscationClassification(db.Model):
    """A sensitive kind of product, and which outside parties see its products' neutral names.

    ``product_obfuscations.classification_code`` names one of these (a foreign key since
    migration 0022, which created one for every code already in use, applying everywhere).
    """

    __tablename__ = "obfuscation_classifications"
    __table_args__ = (
        sa.UniqueConstraint("classification_code", name="unique_classification_code"),
        sa.CheckConstraint(
            "classification_code ~ '^[a-z0-9][a-z0-9_-]*$'", name="classification_code_format"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    classification_code: Mapped[str] = mapped_column(sa.String(50))
    description: Mapped[str] = mapped_column(sa.Text)
    applies_to_payments: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    applies_to_deliveries: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    applies_to_receipts: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    def applies_to(self, audience: str) -> bool:
        return bool(getattr(self, f"applies_to_{audience}"))
