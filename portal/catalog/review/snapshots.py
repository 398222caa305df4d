"""Both records of a decision as they were when it was made (``MatchDecision.snapshot``).

The export to the benchmark layout reads these, never the live rows: a product edited or a master
merged later must not change what the admin saw and labelled.
"""

from __future__ import annotations

from typing import Any

from ...extensions import db
from ..models import Brand, MasterProduct, Product, ProductCategory


def _name(model, key) -> str | None:
    row = db.session.get(model, key) if key else None
    return row.name if row is not None else None


def _model_number(attributes: dict[str, Any] | None) -> str | None:
    from ..mapping import MODEL_ATTRIBUTE_KEYS

    for key, value in (attributes or {}).items():
        if key.strip().lower().replace(" ", "_") in MODEL_ATTRIBUTE_KEYS and value:
            return str(value)
    return None


def product_record(product: Product) -> dict[str, Any]:
    return {
        "id": str(product.id),
        "title": product.title,
        "description": product.description,
        "brand": _name(Brand, product.brand_id),
        "category": _name(ProductCategory, product.category_id),
        "modelno": _model_number(product.attributes),
        "price": str(product.price),
        "sku": product.sku,
        "gtin": product.gtin,
        "attributes": product.attributes,
        "vendor_id": str(product.vendor_id),
    }


def master_record(master: MasterProduct) -> dict[str, Any]:
    return {
        "id": str(master.id),
        "title": master.name,
        "description": master.description,
        "brand": _name(Brand, master.brand_id),
        "category": _name(ProductCategory, master.category_id),
        "modelno": _model_number(master.attributes),
        "price": None if master.lowest_price is None else str(master.lowest_price),
        "slug": master.slug,
        "attributes": master.attributes,
    }


def pair(
    product: Product, master: MasterProduct, chosen: MasterProduct | None = None
) -> dict[str, Any]:
    """The labelled pair (``product``, ``master``) and, for a remap, the master chosen instead
    (a positive pair of its own in the export)."""
    snapshot = {"product": product_record(product), "master": master_record(master)}
    if chosen is not None:
        snapshot["chosen"] = master_record(chosen)
    return snapshot
