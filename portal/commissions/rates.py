"""The rates in force when an order is paid: the commission and the platform fee.

Both are read once, at payment, and copied onto the sale's rows; a refund reverses with the sale's
rates, never with whatever is in force on the day of the refund. Every number comes from the app
config (``TIER_COMMISSION_RATES``, ``REFERRAL_*``, ``PLATFORM_FEE_SCHEDULES``,
``NEW_VENDOR_PROMO_*``); the tier and fee-schedule rules themselves live in ``tiers.rules``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..periods import Period
from ..referrals.attribution import is_attributed
from ..tiers.models import ShopTier, VendorMonthlyVolume
from ..tiers.rules import BASE_TIER, fee_rate, first_fee_tier, tier_rate


@dataclass(frozen=True)
class CommissionRate:
    rate: Decimal
    #: "referral" (the shop brought the customer) or "tier" (the shop's tier, promotions included).
    basis: str
    tier: str | None = None
    #: The shop's tier is a promotion an admin granted (stored as basis "promotional_tier").
    promotional: bool = False


@dataclass(frozen=True)
class PlatformFeeRate:
    rate: Decimal
    vendor_type: str
    volume_tier: str
    is_promotional: bool


# --- what is in force at a moment ----------------------------------------------------------------


def has_referral_attribution(
    shop_id: uuid.UUID,
    session_id: str | None,
    at: datetime,
    customer_id: uuid.UUID | None = None,
) -> bool:
    """Did this browser (the referral cookie's id) or this customer (once a visit was tied to
    them) come through the shop's own referral link within the window? The one rule:
    ``referrals.attribution``."""
    return is_attributed(shop_id, session_id, customer_id, at)


def tier_commission_rate(shop_id: uuid.UUID, at: datetime) -> CommissionRate:
    """The shop's current tier rate, a promotional tier included.

    A promotion whose expiry has passed pays the earned tier's rate even before the expiry job
    has run: at expiry the earned tier returns.
    """
    shop_tier = db.session.scalar(sa.select(ShopTier).where(ShopTier.shop_id == shop_id))
    if shop_tier is None:
        return CommissionRate(tier_rate(BASE_TIER), "tier", BASE_TIER)
    promotion_over = (
        shop_tier.is_promotional
        and shop_tier.promotional_expires_at is not None
        and shop_tier.promotional_expires_at <= at
    )
    if promotion_over:
        return CommissionRate(tier_rate(shop_tier.earned_tier), "tier", shop_tier.earned_tier)
    return CommissionRate(
        shop_tier.commission_rate,
        "tier",
        shop_tier.tier,
        promotional=bool(shop_tier.is_promotional),
    )


def commission_rate_in_force(
    shop_id: uuid.UUID,
    referral_session: str | None,
    at: datetime,
    customer_id: uuid.UUID | None = None,
) -> CommissionRate:
    """The commission an order of this shop pays when paid at ``at``."""
    if has_referral_attribution(shop_id, referral_session, at, customer_id):
        return CommissionRate(current_app.config["REFERRAL_COMMISSION_RATE"], "referral")
    return tier_commission_rate(shop_id, at)


def volume_tier_in_force(vendor_id: uuid.UUID, vendor_type: str, at: datetime) -> str:
    """The fee tier of the previous calendar month's volume; the first tier without one."""
    previous = Period.containing(at).previous()
    tier = db.session.scalar(
        sa.select(VendorMonthlyVolume.fee_tier).where(
            VendorMonthlyVolume.vendor_id == vendor_id,
            VendorMonthlyVolume.year == previous.year,
            VendorMonthlyVolume.month == previous.month,
        )
    )
    return tier or first_fee_tier(vendor_type)


def is_new_vendor(vendor_created_at: datetime, at: datetime) -> bool:
    """Is ``at`` inside the vendor's first ``NEW_VENDOR_PROMO_DAYS`` days?"""
    promo = timedelta(days=current_app.config["NEW_VENDOR_PROMO_DAYS"])
    return vendor_created_at <= at < vendor_created_at + promo


def platform_fee_rate_in_force(vendor, at: datetime) -> PlatformFeeRate:
    """The platform fee a vendor's order pays when paid at ``at``.

    The volume tier is recorded even under the promotional rate, so the row says what the vendor
    would otherwise have paid from.
    """
    volume_tier = volume_tier_in_force(vendor.id, vendor.vendor_type, at)
    if is_new_vendor(vendor.created_at, at):
        rate = current_app.config["NEW_VENDOR_PROMO_FEE_RATE"]
        return PlatformFeeRate(rate, vendor.vendor_type, volume_tier, is_promotional=True)
    rate = fee_rate(vendor.vendor_type, volume_tier)
    return PlatformFeeRate(rate, vendor.vendor_type, volume_tier, is_promotional=False)
