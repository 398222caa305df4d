"""Changes a shop makes to its referral link."""

from __future__ import annotations

from ..extensions import db
from ..vendors.models import Vendor
from ..vendors.services import new_referral_code


def regenerate_code(vendor: Vendor) -> str:
    """Give the shop a new referral code; the old one stops counting new visits.

    The redirect looks codes up on ``vendors``, so the old code simply no longer matches. Visits
    already recorded keep the code they came through (``shop_referrals.referral_code``), and the
    daily statistics are per shop, so the page's figures carry on across the change.
    """
    vendor.referral_code = new_referral_code()
    db.session.flush()
    return vendor.referral_code
