"""The public master product page (``/products/<slug>``): one product of the unified catalog and
every shop's offer of it.

An offer is a mapping (made by the matcher, a review or by hand; a proposal waiting for review is
not a mapping, so it never shows) of an active product of an active shop. The price range and
"from N shops" are read from the offers listed, so the page never states figures its own list
contradicts (a suspended shop's product still counts in the stored aggregates until a product
change recomputes them).

Names are the real ones: the page is inside the marketplace. Obfuscation (``portal.obfuscation``)
applies where product details leave it (payments, delivery, receipts), not here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..vendors.models import Vendor
from .models import MasterProduct, MasterProductRedirect, Product, VendorProductMapping

MAX_SLUG = 255


@dataclass(frozen=True)
class Offer:
    shop_name: str
    shop_slug: str
    title: str
    price: Decimal
    inventory: int
    product_id: uuid.UUID  # the shop's own product: what its add-to-cart form adds


@dataclass(frozen=True)
class MasterPage:
    master: MasterProduct
    offers: list[Offer]

    @property
    def lowest_price(self) -> Decimal | None:
        return self.offers[0].price if self.offers else None

    @property
    def highest_price(self) -> Decimal | None:
        return max(o.price for o in self.offers) if self.offers else None

    @property
    def shop_count(self) -> int:
        return len({o.shop_slug for o in self.offers})

    @property
    def total_inventory(self) -> int:
        return sum(o.inventory for o in self.offers)


def master_by_slug(slug: str) -> MasterProduct | None:
    if not slug or len(slug) > MAX_SLUG:
        return None
    return db.session.scalar(
        sa.select(MasterProduct)
        .where(MasterProduct.slug == slug)
        .options(sa.orm.joinedload(MasterProduct.brand), sa.orm.joinedload(MasterProduct.category))
    )


def redirect_slug(slug: str) -> str | None:
    """The slug of the master a merged master's ``slug`` now redirects to, if any."""
    if not slug or len(slug) > MAX_SLUG:
        return None
    return db.session.scalar(
        sa.select(MasterProduct.slug)
        .join(MasterProductRedirect, MasterProductRedirect.master_product_id == MasterProduct.id)
        .where(MasterProductRedirect.slug == slug)
    )


def master_page(master: MasterProduct) -> MasterPage:
    """Every shop's offer of ``master``, cheapest first (``idx_vendor_mappings_master``)."""
    rows = db.session.execute(
        sa.select(
            Vendor.name, Vendor.slug, Product.title, Product.price, Product.inventory, Product.id
        )
        .select_from(VendorProductMapping)
        .join(Product, Product.id == VendorProductMapping.vendor_product_id)
        .join(Vendor, Vendor.id == VendorProductMapping.vendor_id)
        .where(
            VendorProductMapping.master_product_id == master.id,
            Product.status == "active",
            Vendor.status == "active",
        )
        .order_by(Product.price, Vendor.name, Product.id)
    ).all()
    return MasterPage(master, [Offer(*row) for row in rows])
