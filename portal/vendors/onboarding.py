"""A new shop's first steps, ticked off by what the shop has done (not by clicks on the list).

Each step is an indexed existence check or a kept aggregate, so the dashboard pays four index
probes at most: the profile's own row, ``unique_vendor_sku (vendor_id, sku)`` for a first product,
``vendor_monthly_volumes`` (kept by order intake) for a first paid order, and the shop's
``connected_accounts`` row (``unique_vendor_account``) for payouts, and ``idx_referrals_shop``
for the referral link: the step is done once the link has brought its first counted visit (the
proof it was shared, whoever followed it), not when the page showing it was opened.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from ..catalog.models import Product
from ..extensions import db
from ..payouts.models import ConnectedAccount
from ..referrals.models import ShopReferral
from ..tiers.models import VendorMonthlyVolume
from .models import Vendor


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    endpoint: str
    done: bool

    @property
    def href(self) -> str:
        return url_for(self.endpoint)


def profile_complete(vendor: Vendor) -> bool:
    """Customers and drivers can find the shop: a description and a pickup place on the map."""
    return bool(vendor.description and vendor.description.strip()) and vendor.location is not None


def first_step_probes(vendor_id) -> tuple[sa.Exists, sa.Exists, sa.Exists, sa.Exists]:
    """Has the shop a product; has it had a paid order (the volumes that order intake keeps);
    are its payouts on (the account state "active": payouts enabled, transfers active; a
    disconnected account has both off); has its referral link brought a visit. The dashboard
    reads them in its own statement (``tiers.dashboard``)."""
    return (
        sa.exists().where(Product.vendor_id == vendor_id),
        sa.exists().where(
            VendorMonthlyVolume.vendor_id == vendor_id, VendorMonthlyVolume.total_orders > 0
        ),
        sa.exists().where(
            ConnectedAccount.vendor_id == vendor_id,
            ConnectedAccount.payouts_enabled,
            ConnectedAccount.capabilities["transfers"].astext == "active",
        ),
        sa.exists().where(ShopReferral.shop_id == vendor_id),
    )


@functools.cache
def _probes() -> sa.Select:
    # Built once, with a bound parameter: a reused statement keeps its SQLAlchemy cache key.
    return sa.select(*first_step_probes(sa.bindparam("vendor_id")))


def onboarding_steps(
    vendor: Vendor, probed: tuple[bool, bool, bool, bool] | None = None
) -> list[Step]:
    """The steps, ticked; ``probed`` is what ``first_step_probes`` found, when already read."""
    if probed is None:
        probed = tuple(db.session.execute(_probes(), {"vendor_id": vendor.id}).one())
    has_product, has_order, payouts_on, link_shared = probed
    return [
        Step("profile", "Complete your shop's profile", "shop.profile", profile_complete(vendor)),
        Step("product", "Add your first product", "products.new", bool(has_product)),
        Step("order", "Receive your first paid order", "vendor_orders.index", bool(has_order)),
        Step("payouts", "Set up payouts", "payouts.index", bool(payouts_on)),
        Step("referrals", "Share your referral link", "vendor_referrals.index", bool(link_shared)),
    ]
