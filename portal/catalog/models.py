"""Vendors' own products, and the unified catalog of master products they map to."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..obfuscation.models import ProductObfuscation
    from ..vendors.models import Vendor

PRODUCT_STATUSES = ("active", "archived")
MATCH_METHODS = ("gtin", "sku", "exact_name", "fuzzy", "embedding", "manual")


class Brand(db.Model):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    # The name normalised (catalog.services.brand_key): "MOLESKINE" and "Moleskine" are one brand.
    name_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(255), unique=True)

    def __repr__(self) -> str:
        return f"<Brand {self.name}>"


class ProductCategory(db.Model):
    __tablename__ = "product_categories"

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    slug: Mapped[str] = mapped_column(sa.String(255), unique=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("product_categories.id"))

    parent: Mapped[ProductCategory | None] = relationship(
        back_populates="children", remote_side=[id]
    )
    children: Mapped[list[ProductCategory]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<ProductCategory {self.slug}>"


class Product(db.Model):
    """A vendor's own listing."""

    __tablename__ = "products"
    __table_args__ = (
        # NULL SKUs stay allowed (and distinct): not every listing has one.
        sa.UniqueConstraint("vendor_id", "sku", name="unique_vendor_sku"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("inventory >= 0", name="inventory_not_negative"),
        sa.CheckConstraint(f"status IN {PRODUCT_STATUSES!r}", name="status"),
        # The catalog matcher looks products up by GTIN first.
        sa.Index("idx_products_gtin", "gtin", postgresql_where=sa.text("gtin IS NOT NULL")),
        # The vendor's product list (docs/performance.md): its default order, newest change
        # first, read a page at a time; the count and the brand and category filters read only
        # these indexes, never the rows.
        sa.Index(
            "idx_products_vendor_updated",
            "vendor_id",
            "status",
            sa.text("updated_at DESC"),
            "id",
        ),
        sa.Index("idx_products_vendor_brand", "vendor_id", "brand_id"),
        sa.Index("idx_products_vendor_category", "vendor_id", "category_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    sku: Mapped[str | None] = mapped_column(sa.String(255))
    gtin: Mapped[str | None] = mapped_column(sa.String(14))
    brand_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("brands.id"))
    category_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("product_categories.id"))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    inventory: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="active")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    vendor: Mapped[Vendor] = relationship()
    brand: Mapped[Brand | None] = relationship()
    category: Mapped[ProductCategory | None] = relationship()
    obfuscation: Mapped[ProductObfuscation | None] = relationship(back_populates="product")

    def __repr__(self) -> str:
        return f"<Product {self.sku or self.id} {self.title!r}>"


class MasterProduct(db.Model):
    """One product of the unified catalog, offered by one or more vendors."""

    __tablename__ = "master_products"
    __table_args__ = (
        sa.CheckConstraint("lowest_price >= 0", name="lowest_price_not_negative"),
        sa.CheckConstraint("highest_price >= lowest_price", name="price_range"),
        sa.Index("idx_master_products_category", "category_id"),
        sa.Index("idx_master_products_brand", "brand_id"),
        # The matcher's exact_name method.
        sa.Index("idx_master_products_normalized_name", "normalized_name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    normalized_name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    category_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("product_categories.id"))
    brand_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("brands.id"))
    lowest_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    highest_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    total_inventory: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    vendor_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    slug: Mapped[str] = mapped_column(sa.String(255), unique=True)
    meta_title: Mapped[str | None] = mapped_column(sa.String(255))
    meta_description: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    brand: Mapped[Brand | None] = relationship()
    category: Mapped[ProductCategory | None] = relationship()
    mappings: Mapped[list[VendorProductMapping]] = relationship(back_populates="master_product")

    def __repr__(self) -> str:
        return f"<MasterProduct {self.slug}>"


class VendorProductMapping(db.Model):
    """Which master product a vendor's product is, how sure we are, and how it was matched."""

    __tablename__ = "vendor_product_mappings"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "vendor_product_id", name="unique_vendor_product"),
        sa.CheckConstraint("vendor_price >= 0", name="vendor_price_not_negative"),
        sa.CheckConstraint(
            "match_confidence >= 0 AND match_confidence <= 1", name="match_confidence_range"
        ),
        sa.CheckConstraint(f"match_method IN {MATCH_METHODS!r}", name="match_method"),
        sa.Index("idx_vendor_mappings_master", "master_product_id"),
        sa.Index("idx_vendor_mappings_vendor", "vendor_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    master_product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("master_products.id"))
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id"))
    vendor_product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"))
    vendor_sku: Mapped[str | None] = mapped_column(sa.String(255))
    vendor_price: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    vendor_inventory: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    vendor_title: Mapped[str | None] = mapped_column(sa.String(255))
    match_confidence: Mapped[Decimal | None] = mapped_column(sa.Numeric(3, 2))
    match_method: Mapped[str | None] = mapped_column(sa.String(20))
    verified: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    master_product: Mapped[MasterProduct] = relationship(back_populates="mappings")
    vendor: Mapped[Vendor] = relationship()
    product: Mapped[Product] = relationship()


class ProductImage(db.Model):
    """A product photo stored under MEDIA_ROOT; ``position`` orders the gallery (0 is the cover)."""

    __tablename__ = "product_images"
    __table_args__ = (sa.Index("idx_product_images_product", "product_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(sa.String(255))
    position: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )


PRODUCT_IMPORT_STATUSES = ("queued", "running", "done", "failed")


class ProductImport(db.Model):
    """A bulk CSV import: checked whole before it is queued, then applied by a job with progress."""

    __tablename__ = "product_imports"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {PRODUCT_IMPORT_STATUSES!r}", name="status"),
        sa.Index("idx_product_imports_vendor", "vendor_id", sa.text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    # The checked upload, kept under MEDIA_ROOT until the job has applied it.
    file_path: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="queued")
    total_rows: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    processed_rows: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    created_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    updated_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(sa.Text)
    job_id: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
