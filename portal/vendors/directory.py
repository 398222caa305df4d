"""The operator's list of shops: search by name, slug or contact, with tier and sales this month."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..pagination import Paged, clamp_page
from ..tiers.models import ShopTier
from .models import Vendor


@dataclass(frozen=True)
class VendorPage(Paged):
    rows: list[tuple[Vendor, ShopTier | None]]
    page: int
    per_page: int
    total_rows: int


def search_vendors(text: str = "", page: int = 1, per_page: int = 25) -> VendorPage:
    query = sa.select(Vendor, ShopTier).outerjoin(ShopTier, ShopTier.shop_id == Vendor.id)
    text = text.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            sa.or_(
                Vendor.name.ilike(pattern),
                Vendor.slug.ilike(pattern),
                Vendor.contact_email.ilike(pattern),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    rows = db.session.execute(
        query.order_by(ShopTier.monthly_sales.desc().nulls_last(), Vendor.name)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return VendorPage([tuple(row) for row in rows], page, per_page, total)
