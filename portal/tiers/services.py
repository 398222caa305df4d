"""Shop tiers: the commission a shop pays, set from its sales."""

from __future__ import annotations

from flask import current_app

from ..extensions import db
from .models import ShopTier

STARTING_TIER = "bronze"


def commission_rate_for(tier: str):
    return current_app.config["TIER_COMMISSION_RATES"][tier]


def start_shop_tier(vendor) -> ShopTier:
    """Every new shop starts at bronze with bronze's configured rate."""
    shop_tier = ShopTier(
        shop_id=vendor.id, tier=STARTING_TIER, commission_rate=commission_rate_for(STARTING_TIER)
    )
    db.session.add(shop_tier)
    return shop_tier


def tier_for_shop(vendor_id) -> ShopTier | None:
    return db.session.scalar(db.select(ShopTier).where(ShopTier.shop_id == vendor_id))
