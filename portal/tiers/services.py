"""Shop tiers: the commission a shop pays, set from its sales."""

from __future__ import annotations

from ..extensions import db
from .models import ShopTier
from .rules import BASE_TIER, tier_rate


def start_shop_tier(vendor) -> ShopTier:
    """Every new shop starts at the base tier with its configured rate."""
    shop_tier = ShopTier(shop_id=vendor.id, tier=BASE_TIER, commission_rate=tier_rate(BASE_TIER))
    db.session.add(shop_tier)
    return shop_tier


def tier_for_shop(vendor_id) -> ShopTier | None:
    return db.session.scalar(db.select(ShopTier).where(ShopTier.shop_id == vendor_id))
