"""A shop's public page (``/shops/<slug>``): what anyone may see of an active shop."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from ..catalog.models import Product, ProductImage
from ..extensions import db
from ..pagination import Paged, clamp_page
from .models import Vendor


@dataclass(frozen=True)
class PublicShopPage(Paged):
    shop: Vendor
    products: list[Product]
    #: Each listed product's cover photo (the gallery's first), by product id.
    covers: dict[uuid.UUID, str]
    page: int
    per_page: int
    total_rows: int


def active_shop(slug: str) -> Vendor | None:
    """The shop by its slug, when it is open (a pending or suspended shop has no public page)."""
    if not slug or len(slug) > 255:
        return None
    return db.session.scalar(
        sa.select(Vendor).where(Vendor.slug == slug, Vendor.status == "active")
    )


def public_shop_page(shop: Vendor, page: int, per_page: int) -> PublicShopPage:
    """The shop's active products by title, a page at a time, with their cover photos."""
    listed = sa.and_(Product.vendor_id == shop.id, Product.status == "active")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(listed))
    page = clamp_page(page, total, per_page)
    products = list(
        db.session.scalars(
            sa.select(Product)
            .where(listed)
            .order_by(Product.title, Product.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    covers: dict[uuid.UUID, str] = {}
    if products:
        rows = db.session.execute(
            sa.select(ProductImage.product_id, ProductImage.path)
            .where(ProductImage.product_id.in_([p.id for p in products]))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
            .distinct(ProductImage.product_id)
        )
        covers = dict(list(rows.tuples()))
    return PublicShopPage(shop, products, covers, page, per_page, total)
