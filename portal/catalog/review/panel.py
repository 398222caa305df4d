"""What the review panel shows of a proposal: both records side by side, read in few queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ..models import MasterProduct, MatchProposal, Product, ProductImage, VendorProductMapping


@dataclass(frozen=True)
class Side:
    title: str
    brand: str | None
    category: str | None
    price: str | None  # text: a price, or a range across a master's shops
    attributes: dict[str, Any]
    image: str | None  # a MEDIA_ROOT path
    note: str  # the vendor's name, or how many shops offer the master


@dataclass(frozen=True)
class Item:
    proposal: MatchProposal
    product: Side
    master: Side
    reasons: list[str]


def _cover(product_ids) -> str | None:
    return db.session.scalar(
        sa.select(ProductImage.path)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.position, ProductImage.created_at)
        .limit(1)
    )


def _product_side(product: Product) -> Side:
    from ...money import money_text

    return Side(
        title=product.title,
        brand=product.brand.name if product.brand else None,
        category=product.category.name if product.category else None,
        price=money_text(product.price),
        attributes=dict(product.attributes or {}),
        image=_cover([product.id]),
        note=product.vendor.name,
    )


def _master_side(master: MasterProduct) -> Side:
    from ...money import money_text

    if master.lowest_price is None:
        price = None
    elif master.lowest_price == master.highest_price:
        price = money_text(master.lowest_price)
    else:
        price = f"{money_text(master.lowest_price)} to {money_text(master.highest_price)}"
    shops = master.vendor_count
    mapped = sa.select(VendorProductMapping.vendor_product_id).where(
        VendorProductMapping.master_product_id == master.id
    )
    return Side(
        title=master.name,
        brand=master.brand.name if master.brand else None,
        category=master.category.name if master.category else None,
        price=price,
        attributes=dict(master.attributes or {}),
        image=_cover(mapped),
        note=f"offered by {shops} shop{'' if shops == 1 else 's'}" if shops else "no offer yet",
    )


def item(proposal: MatchProposal | None) -> Item | None:
    if proposal is None:
        return None
    reasons = [r.get("text") for r in (proposal.reasons or []) if r.get("text")]
    return Item(
        proposal=proposal,
        product=_product_side(proposal.product),
        master=_master_side(proposal.master_product),
        reasons=reasons,
    )


def proposal_or_none(proposal_id: uuid.UUID) -> MatchProposal | None:
    return db.session.get(MatchProposal, proposal_id)
