"""Mapping vendor products to master products: the one place a mapping is made, moved or removed.

The matcher job, the review queue and the seed all come through here, so the rules hold for each:
one mapping per product; a mapped product's pending proposal is superseded; the aggregates of
every master a product leaves or joins are recomputed in the same transaction; a master created
from a product gets a normalised name, a unique slug, the product's attributes, SEO meta and the
match fields the matcher's blocking reads (``model_codes``, ``match_text``).
Functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..extensions import db
from ..vendors.services import slugify
from . import aggregates
from .matching.normalize import codes, normalize
from .models import (
    MATCH_METHODS,
    Brand,
    MasterProduct,
    MatchProposal,
    Product,
    VendorProductMapping,
)

SLUG_BASE_LENGTH = 200
META_DESCRIPTION_LENGTH = 160
MAX_CODES = 32
# Attribute keys whose values are model or part numbers, whatever a shop calls them.
MODEL_ATTRIBUTE_KEYS = ("model", "modelno", "model_number", "mpn", "part_number", "part")


class MappingError(ValueError):
    pass


def match_fields(
    name: str,
    *,
    brand: str | None = None,
    description: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The normalised name, model codes and match text of a product record."""
    model_values = [
        str(value)
        for key, value in (attributes or {}).items()
        if key.strip().lower().replace(" ", "_") in MODEL_ATTRIBUTE_KEYS and value
    ]
    normalized_name = normalize(name)[:255]
    found = codes(normalized_name)
    for value in model_values:
        found |= codes(normalize(value))
    text = " ".join(
        filter(None, (normalized_name, normalize(brand), *map(normalize, model_values)))
    )
    if description:
        text = f"{text} {normalize(description)}"
    return {
        "normalized_name": normalized_name,
        "model_codes": sorted(code[:64] for code in found)[:MAX_CODES],
        "match_text": text,
    }


def refresh_match_fields(master: MasterProduct) -> None:
    brand = db.session.get(Brand, master.brand_id) if master.brand_id else None
    fields = match_fields(
        master.name,
        brand=brand.name if brand else None,
        description=master.description,
        attributes=master.attributes,
    )
    for key, value in fields.items():
        setattr(master, key, value)


def unique_master_slug(name: str, *, exclude: uuid.UUID | None = None) -> str:
    """``name`` as a slug no master and no merge redirect uses yet."""
    from .models import MasterProductRedirect

    base = slugify(name, fallback="product")[:SLUG_BASE_LENGTH].strip("-") or "product"
    taken_masters = sa.select(MasterProduct.slug).where(
        sa.or_(MasterProduct.slug == base, MasterProduct.slug.like(base + "-%")),
        MasterProduct.id != exclude if exclude else sa.true(),
    )
    taken_redirects = sa.select(MasterProductRedirect.slug).where(
        sa.or_(MasterProductRedirect.slug == base, MasterProductRedirect.slug.like(base + "-%"))
    )
    taken = set(db.session.scalars(taken_masters)) | set(db.session.scalars(taken_redirects))
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def _meta_description(name: str, description: str | None) -> str:
    if description and description.strip():
        text = " ".join(description.split())
        if len(text) <= META_DESCRIPTION_LENGTH:
            return text
        return text[: META_DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return f"{name}: every shop's offer, price and stock."[:META_DESCRIPTION_LENGTH]


def create_master_from_product(product: Product) -> MasterProduct:
    """A new master product that is this vendor product (not yet mapped: see ``map_product``)."""
    master = MasterProduct(
        name=product.title,
        description=product.description,
        category_id=product.category_id,
        brand_id=product.brand_id,
        attributes=product.attributes,
        slug=unique_master_slug(product.title),
        meta_title=product.title[:255],
        meta_description=_meta_description(product.title, product.description),
        # No figures of its own: a master has prices, stock and shops only through its mappings
        # (``map_product`` recomputes them); one never mapped must not claim the product's price.
    )
    refresh_match_fields(master)
    db.session.add(master)
    db.session.flush()
    return master


def mapping_of(product_id: uuid.UUID) -> VendorProductMapping | None:
    return db.session.scalar(
        sa.select(VendorProductMapping)
        .where(VendorProductMapping.vendor_product_id == product_id)
        .execution_options(populate_existing=True)
    )


def map_product(
    product: Product,
    master: MasterProduct,
    *,
    method: str,
    confidence: Decimal | float | None = None,
    verified: bool = False,
) -> VendorProductMapping:
    """Map ``product`` to ``master`` (replacing any mapping it had) and recompute both masters."""
    if method not in MATCH_METHODS:
        raise MappingError(f"unknown match method {method!r}")
    confidence_value = (
        None if confidence is None else Decimal(str(confidence)).quantize(Decimal("0.01"))
    )
    previous_master = db.session.scalar(
        sa.select(VendorProductMapping.master_product_id).where(
            VendorProductMapping.vendor_product_id == product.id
        )
    )
    values = {
        "master_product_id": master.id,
        "vendor_id": product.vendor_id,
        "vendor_product_id": product.id,
        "vendor_sku": product.sku,
        "vendor_price": product.price,
        "vendor_inventory": product.inventory,
        "vendor_title": product.title,
        "match_confidence": confidence_value,
        "match_method": method,
        "verified": verified,
    }
    statement = pg_insert(VendorProductMapping).values(**values)
    db.session.execute(
        statement.on_conflict_do_update(
            constraint="unique_vendor_product",
            set_={
                **{key: statement.excluded[key] for key in values if key != "vendor_product_id"},
                "updated_at": sa.func.now(),
            },
        )
    )
    _supersede_pending(product.id)
    db.session.flush()
    aggregates.recompute_masters({master.id, previous_master} - {None})
    return mapping_of(product.id)


def unmap_product(product: Product) -> uuid.UUID | None:
    """Remove the product's mapping; returns the master it left (its aggregates recomputed)."""
    master_id = db.session.scalar(
        sa.delete(VendorProductMapping)
        .where(VendorProductMapping.vendor_product_id == product.id)
        .returning(VendorProductMapping.master_product_id)
    )
    if master_id is not None:
        aggregates.recompute_masters({master_id})
    return master_id


def _supersede_pending(product_id: uuid.UUID) -> None:
    db.session.execute(
        sa.update(MatchProposal)
        .where(MatchProposal.vendor_product_id == product_id, MatchProposal.status == "pending")
        .values(status="superseded")
    )
