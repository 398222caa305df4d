"""A vendor's own product listings, with their brands and categories."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..money import to_money
from ..vendors.services import slugify
from .models import Brand, Product, ProductCategory


def get_or_create_brand(name: str) -> Brand:
    brand = db.session.scalar(sa.select(Brand).where(Brand.name == name))
    if brand is None:
        brand = Brand(name=name, slug=slugify(name))
        db.session.add(brand)
        db.session.flush()
    return brand


def get_or_create_category(name: str, parent: ProductCategory | None = None) -> ProductCategory:
    slug = slugify(name)
    category = db.session.scalar(sa.select(ProductCategory).where(ProductCategory.slug == slug))
    if category is None:
        category = ProductCategory(name=name, slug=slug, parent_id=parent.id if parent else None)
        db.session.add(category)
        db.session.flush()
    return category


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
