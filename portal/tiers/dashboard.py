"""What a vendor's dashboard shows: tier, progress to the next one, money totals, a year of sales.

Everything is read from the monthly volumes, the tier row and indexed commission/fee lookups, never
from a scan of all orders, so the page stays fast for shops with years of history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..commissions.models import VendorCommissionTotal, VendorPlatformFee
from ..extensions import db
from .models import ShopTier, VendorMonthlyVolume
from .services import tier_for_shop

TIER_ORDER = ("bronze", "silver", "gold")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TierProgress:
    next_tier: str | None  # None at the top tier
    threshold: Decimal | None
    left_to_sell: Decimal
    percent: int


@dataclass(frozen=True)
class MonthSales:
    year: int
    month: int
    total_sales: Decimal
    total_orders: int

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%b %Y")


@dataclass(frozen=True)
class VendorDashboard:
    shop_tier: ShopTier
    month_to_date_sales: Decimal
    progress: TierProgress
    commission_by_status: dict[str, Decimal]
    fees_this_month: Decimal
    sales_by_month: list[MonthSales]


def tier_progress(sales: Decimal) -> TierProgress:
    """How far this month's sales are from earning the next tier for next month."""
    thresholds = current_app.config["TIER_SALES_THRESHOLDS"]
    earned = "bronze"
    for tier in TIER_ORDER[1:]:
        if sales >= thresholds[tier]:
            earned = tier
    position = TIER_ORDER.index(earned)
    if position == len(TIER_ORDER) - 1:
        return TierProgress(None, None, ZERO, 100)
    next_tier = TIER_ORDER[position + 1]
    threshold = thresholds[next_tier]
    floor = thresholds[earned] if earned in thresholds else Decimal("0")
    percent = int((sales - floor) * 100 / (threshold - floor)) if threshold > floor else 0
    return TierProgress(
        next_tier, threshold, max(threshold - sales, ZERO), max(0, min(percent, 100))
    )


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1)


def _months_back(day: date, count: int) -> list[tuple[int, int]]:
    index = day.year * 12 + day.month - 1
    return [divmod(i, 12) for i in range(index - count + 1, index + 1)]


def commission_totals(vendor_id: uuid.UUID) -> dict[str, Decimal]:
    """Commission by status, from the running totals the database keeps per shop."""
    rows = db.session.execute(
        sa.select(VendorCommissionTotal.status, VendorCommissionTotal.commission_total).where(
            VendorCommissionTotal.shop_id == vendor_id
        )
    ).all()
    totals = {"pending": ZERO, "settled": ZERO, "paid": ZERO}
    totals.update(dict(rows))
    return totals


def fees_since(vendor_id: uuid.UUID, since: datetime) -> Decimal:
    total = db.session.scalar(
        sa.select(sa.func.sum(VendorPlatformFee.fee_amount)).where(
            VendorPlatformFee.vendor_id == vendor_id, VendorPlatformFee.created_at >= since
        )
    )
    return total or ZERO


def sales_by_month(vendor_id: uuid.UUID, today: date, months: int = 12) -> list[MonthSales]:
    wanted = _months_back(today, months)
    first_year, first_month0 = wanted[0]
    rows = db.session.execute(
        sa.select(
            VendorMonthlyVolume.year,
            VendorMonthlyVolume.month,
            VendorMonthlyVolume.total_sales,
            VendorMonthlyVolume.total_orders,
        ).where(
            VendorMonthlyVolume.vendor_id == vendor_id,
            sa.tuple_(VendorMonthlyVolume.year, VendorMonthlyVolume.month)
            >= (first_year, first_month0 + 1),
        )
    ).all()
    found = {(year, month): (sales, orders) for year, month, sales, orders in rows}
    return [
        MonthSales(year, month0 + 1, *found.get((year, month0 + 1), (ZERO, 0)))
        for year, month0 in wanted
    ]


def vendor_dashboard(vendor_id: uuid.UUID, today: date) -> VendorDashboard:
    shop_tier = tier_for_shop(vendor_id)
    months = sales_by_month(vendor_id, today)
    month_to_date = months[-1].total_sales
    return VendorDashboard(
        shop_tier=shop_tier,
        month_to_date_sales=month_to_date,
        progress=tier_progress(month_to_date),
        commission_by_status=commission_totals(vendor_id),
        fees_this_month=fees_since(vendor_id, _month_start(today)),
        sales_by_month=months,
    )
