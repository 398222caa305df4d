"""Vendors' own products, and the unified catalog of master products they map to."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import UTCDateTime
from ..extensions import db

if TYPE_CHECKING:
    from ..obfuscation.models import ProductObfuscation
    from ..vendors.models import Vendor

PRODUCT_STATUSES = ("active", "archived")
# PRODUCT.md's list, adapted to what the matcher really does (docs/catalog-matching.md):
# ``model_number`` is an exact model/part-number match, ``model`` a score of the trained model,
# ``new_master`` a master created from the vendor product itself.
MATCH_METHODS = (
    "gtin",
    "sku",
    "model_number",
    "exact_name",
    "fuzzy",
    "embedding",
    "model",
    "manual",
    "new_master",
)


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


STOREFRONT_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, normalized_name), 'A')"
    " || array_to_tsvector(model_codes::text[])"
    " || setweight(to_tsvector('simple'::regconfig, coalesce(match_text, '')), 'C')"
)


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
        # The matcher's blocking (catalog/matching): trigram similarity of names, shared
        # model/part numbers, and full-text over the master's match text.
        sa.Index(
            "idx_master_products_name_trgm",
            "normalized_name",
            postgresql_using="gin",
            postgresql_ops={"normalized_name": "gin_trgm_ops"},
        ),
        sa.Index("idx_master_products_model_codes", "model_codes", postgresql_using="gin"),
        sa.Index("idx_master_products_search", "search_vector", postgresql_using="gin"),
        # The storefront (portal/storefront/search.py): only masters some shop offers are listed,
        # searched through the weighted vector and read in each sort's order a page at a time.
        sa.Index(
            "idx_master_products_storefront_search",
            "storefront_vector",
            postgresql_using="gin",
            postgresql_where=sa.text("vendor_count > 0"),
        ),
        *(
            sa.Index(
                f"idx_master_products_offered_{name}",
                column,
                "id",
                postgresql_where=sa.text("vendor_count > 0"),
            )
            for name, column in (
                ("price", "lowest_price"),
                ("shops", "vendor_count"),
                ("newest", "created_at"),
            )
        ),
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
    # Kept per master for the matcher (catalog.mapping.refresh_match_fields): the model/part
    # numbers in its name and attributes, and its normalised name, brand and description as one
    # text, so a run computes them for the vendor products only.
    model_codes: Mapped[list[str]] = mapped_column(
        ARRAY(sa.String(64)), server_default=sa.text("'{}'::varchar[]")
    )
    match_text: Mapped[str | None] = mapped_column(sa.Text)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        sa.Computed(
            "to_tsvector('simple'::regconfig, coalesce(match_text, normalized_name))",
            persisted=True,
        ),
    )
    # The storefront's ranking (docs/storefront.md): the name weighs most (A), then the model
    # numbers (B), then the rest of the match text: brand, model attributes, description (C).
    storefront_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        sa.Computed(STOREFRONT_VECTOR, persisted=True),
        deferred=True,
    )
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


MATCH_RUN_SCOPES = ("products", "vendor", "catalog")
MATCH_RUN_STATUSES = ("queued", "running", "done", "failed")


class CatalogMatchRun(db.Model):
    """One run of the matcher (RQ job): over some products, one vendor's or the whole catalog.

    The admin page polls its counters; ``processed`` of ``total`` is the progress bar.
    """

    __tablename__ = "catalog_match_runs"
    __table_args__ = (
        sa.CheckConstraint(f"scope IN {MATCH_RUN_SCOPES!r}", name="scope"),
        sa.CheckConstraint(f"status IN {MATCH_RUN_STATUSES!r}", name="status"),
        sa.Index("idx_catalog_match_runs_created", sa.text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    scope: Mapped[str] = mapped_column(sa.String(20))
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("vendors.id", ondelete="CASCADE")
    )
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), server_default="queued")
    total: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    processed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    exact_matched: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    auto_mapped: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    proposed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    new_masters: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    # Set when the run scored without a model (missing or unreadable file): why, in words.
    notice: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    job_id: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )


PROPOSAL_STATUSES = ("pending", "approved", "rejected", "superseded")


class MatchProposal(db.Model):
    """A match the matcher was not sure enough of: it waits for an admin's decision.

    The product stays unmapped meanwhile (``vendor_product_mappings`` holds one row per product
    with a non-null master). At most one proposal per product is pending.
    """

    __tablename__ = "match_proposals"
    __table_args__ = (
        sa.CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
        sa.CheckConstraint(f"status IN {PROPOSAL_STATUSES!r}", name="status"),
        sa.CheckConstraint(f"match_method IN {MATCH_METHODS!r}", name="match_method"),
        sa.Index(
            "unique_pending_proposal_per_product",
            "vendor_product_id",
            unique=True,
            postgresql_where=sa.text("status = 'pending'"),
        ),
        # The review queue: what waits, most confident first, a filter at a time.
        sa.Index(
            "idx_match_proposals_queue",
            "status",
            sa.text("confidence DESC"),
            "id",
        ),
        sa.Index("idx_match_proposals_vendor", "vendor_id", "status"),
        sa.Index("idx_match_proposals_master", "master_product_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"))
    vendor_product_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("products.id", ondelete="CASCADE")
    )
    master_product_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("master_products.id", ondelete="CASCADE")
    )
    confidence: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    match_method: Mapped[str] = mapped_column(sa.String(20))
    # What drove the score, for the review panel: [{"feature": ..., "value": ..., "text": ...}].
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("catalog_match_runs.id", ondelete="SET NULL")
    )
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    product: Mapped[Product] = relationship()
    master_product: Mapped[MasterProduct] = relationship()
    vendor: Mapped[Vendor] = relationship()


DECISION_KINDS = ("approve", "reject", "remap", "new_master", "merge", "bulk_approve", "undo")


class MatchDecision(db.Model):
    """Every review decision: who, when, what; the labelled pairs of the next training set.

    ``snapshot`` keeps both records as they were when decided (the export to the benchmark
    layout reads it, so a product edited or a master merged later does not change the label);
    ``details`` keeps what an undo needs to put back.
    """

    __tablename__ = "match_decisions"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {DECISION_KINDS!r}", name="kind"),
        sa.CheckConstraint("label IN (0, 1)", name="label"),
        sa.Index("idx_match_decisions_admin", "admin_id", sa.text("created_at DESC")),
        sa.Index("idx_match_decisions_created", sa.text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    admin_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("match_proposals.id", ondelete="SET NULL")
    )
    vendor_product_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL")
    )
    master_product_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("master_products.id", ondelete="SET NULL")
    )
    # 1: the pair is the same product, 0: it is not; None for decisions that label no pair.
    label: Mapped[int | None] = mapped_column(sa.SmallInteger)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(sa.Text)
    undo_of_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("match_decisions.id", ondelete="SET NULL")
    )
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )


class MasterProductRedirect(db.Model):
    """The slug of a master merged into another: its page answers 301 to the survivor."""

    __tablename__ = "master_product_redirects"

    slug: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    master_product_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("master_products.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )


REMAP_REQUEST_STATUSES = ("open", "resolved", "declined")


class RemapRequest(db.Model):
    """A vendor asking for one of their products to be mapped to another master, with a note."""

    __tablename__ = "remap_requests"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {REMAP_REQUEST_STATUSES!r}", name="status"),
        sa.Index(
            "unique_open_remap_request_per_product",
            "product_id",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index("idx_remap_requests_status", "status", "created_at"),
        # The vendor's own requests, newest first (a keyset list).
        sa.Index("idx_remap_requests_vendor", "vendor_id", sa.text("created_at DESC"), "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    vendor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), server_default="open")
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    product: Mapped[Product] = relationship()
