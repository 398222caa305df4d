"""Brands and categories shared by every shop's products, and the seed's product helper.

A brand is identified by its normalised name (:func:`brand_key`): a name that differs from an
existing brand only in case, accents' composition, spacing or punctuation reuses that brand. Two
different names whose slugs collide (non-Latin names both transliterate to nothing) are two
brands; the later one's slug gets a numeric suffix. Creation is ``INSERT … ON CONFLICT DO
NOTHING`` followed by a read, so two requests creating one brand at once both end with the same
row instead of a unique-constraint error.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..extensions import db
from ..money import to_money
from ..vendors.services import slugify
from .models import Brand, Product, ProductCategory

KEY_LENGTH = 255
SLUG_BASE_LENGTH = 200
SLUG_ATTEMPTS = 20


def brand_key(name: str) -> str:
    """``name`` compared as people read it: NFKC, case-folded, letters and digits only.

    A name of punctuation alone keeps its punctuation (without blanks), so "!!!" is a brand too.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    key = "".join(ch for ch in folded if ch.isalnum()) or "".join(folded.split())
    return key[:KEY_LENGTH]


def ensure_brands(names: Iterable[str]) -> dict[str, uuid.UUID]:
    """The brand id for each name, creating the brands that do not exist yet. Flushes only."""
    keys = {name: brand_key(name) for name in names}
    if not keys:
        return {}
    found = dict(
        db.session.execute(
            sa.select(Brand.name_key, Brand.id).where(Brand.name_key.in_(set(keys.values())))
        ).all()
    )
    for name, key in keys.items():
        if key not in found:
            found[key] = _insert_brand(name, key)
    return {name: found[key] for name, key in keys.items()}


def get_or_create_brand(name: str) -> Brand:
    return db.session.get(Brand, ensure_brands([name])[name])


def _insert_brand(name: str, key: str) -> uuid.UUID:
    base = slugify(name, fallback="brand")[:SLUG_BASE_LENGTH].strip("-") or "brand"
    for _ in range(SLUG_ATTEMPTS):
        # ON CONFLICT without a target covers the key, the name and the slug: a concurrent insert
        # of the same brand is waited for, then skipped, and the read below finds it.
        brand_id = db.session.scalar(
            pg_insert(Brand)
            .values(name=name, name_key=key, slug=_free_slug(base))
            .on_conflict_do_nothing()
            .returning(Brand.id)
        )
        if brand_id is None:
            brand_id = db.session.scalar(sa.select(Brand.id).where(Brand.name_key == key))
        if brand_id is not None:
            return brand_id
        # Only the slug was taken, by another brand created meanwhile: pick the next one.
    raise RuntimeError(f"no free slug for brand {name!r} after {SLUG_ATTEMPTS} attempts")


def _free_slug(base: str) -> str:
    """``base``, or ``base-N`` with the smallest N (from 2) that no brand uses.

    ``base`` comes from ``slugify``: only ``[a-z0-9-]``, nothing LIKE would read as a wildcard.
    """
    pattern = re.compile(rf"{re.escape(base)}-(\d+)")
    taken = set(
        db.session.scalars(
            sa.select(Brand.slug).where(sa.or_(Brand.slug == base, Brand.slug.like(base + "-%")))
        )
    )
    if base not in taken:
        return base
    used = {int(m[1]) for slug in taken if (m := pattern.fullmatch(slug))}
    return f"{base}-{min(set(range(2, len(used) + 3)) - used)}"


def get_or_create_category(name: str, parent: ProductCategory | None = None) -> ProductCategory:
    slug = slugify(name)
    db.session.execute(
        pg_insert(ProductCategory)
        .values(name=name, slug=slug, parent_id=parent.id if parent else None)
        .on_conflict_do_nothing(index_elements=["slug"])
    )
    return db.session.scalar(sa.select(ProductCategory).where(ProductCategory.slug == slug))


def create_product(
    vendor,
    *,
    title: str,
    price: Decimal,
    sku: str | None = None,
    inventory: int = 0,
    description: str | None = None,
    gtin: str | None = None,
    brand: Brand | None = None,
    category: ProductCategory | None = None,
    attributes: dict | None = None,
) -> Product:
    if inventory < 0:
        raise ValueError("Inventory cannot be negative.")
    product = Product(
        vendor_id=vendor.id,
        title=title,
        description=description,
        sku=sku,
        gtin=gtin,
        brand_id=brand.id if brand else None,
        category_id=category.id if category else None,
        price=to_money(price),
        inventory=inventory,
        attributes=attributes,
    )
    db.session.add(product)
    db.session.flush()
    return product
