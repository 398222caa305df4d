"""The loyalty rules that are pure arithmetic over configuration: tiers, multipliers, value.

The points service (what changes a balance) and the pages (what shows one) both use these, so a
threshold or a rate is read in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from flask import current_app

from ..money import to_money
from .models import POINTS_TIERS


@dataclass(frozen=True)
class TierStanding:
    tier: str
    progress: int  # lifetime points earned past the tier's own threshold
    next_threshold: int | None  # lifetime points the next tier starts at; None at the top


def tier_standing(lifetime_earned: int) -> TierStanding:
    """The tier a customer's lifetime earned points put them in, and how far to the next."""
    thresholds = current_app.config["POINTS_TIER_THRESHOLDS"]
    reached = [tier for tier in POINTS_TIERS if lifetime_earned >= thresholds[tier]]
    tier = reached[-1] if reached else POINTS_TIERS[0]
    position = POINTS_TIERS.index(tier)
    following = POINTS_TIERS[position + 1] if position + 1 < len(POINTS_TIERS) else None
    return TierStanding(
        tier=tier,
        progress=lifetime_earned - thresholds[tier],
        next_threshold=thresholds[following] if following else None,
    )


def tier_multiplier(tier: str) -> Decimal:
    return current_app.config["POINTS_TIER_MULTIPLIERS"][tier]


def points_for(merchandise_paid: Decimal, tier: str) -> int:
    """Points earned on merchandise paid for with money: whole dollars' points, then the tier."""
    per_dollar = current_app.config["POINTS_PER_DOLLAR"]
    base = (merchandise_paid * per_dollar).to_integral_value(ROUND_FLOOR)
    return int((base * tier_multiplier(tier)).to_integral_value(ROUND_FLOOR))


def points_value(points: int) -> Decimal:
    """What points are worth in dollars at redemption (100 points = $1 by default)."""
    return to_money(Decimal(points) / current_app.config["POINTS_PER_DOLLAR_REDEEMED"])
