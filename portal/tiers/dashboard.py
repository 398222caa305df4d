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

from ..commissions.models import VendorCommissionTotal, VendorPlatformFee
from ..extensions import db
from ..periods import Period
from .models import ShopTier, VendorMonthlyVolume
from .rules import earned_tier, next_tier, tier_threshold
from .services import tier_for_shop

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TierProgress:
    next_tier: str | None  # None at the top tier
    threshold: Decimal | None
    left_to_sell: Decimal
    percent: int


@dataclass(frozen=True)
class MonthSales:
    period: Period
    total_sales: Decimal
    total_orders: int

    @property
    def label(self) -> str:
        return self.period.label


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
    earned = earned_tier(sales)
    upcoming = next_tier(earned)
    if upcoming is None:
        return TierProgress(None, None, ZERO, 100)
    threshold, floor = tier_threshold(upcoming), tier_threshold(earned)
    percent = int((sales - floor) * 100 / (threshold - floor)) if threshold > floor else 0
    return TierProgress(
        upcoming, threshold, max(threshold - sales, ZERO), max(0, min(percent, 100))
    )


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
    wanted = Period.containing(today).last(months)
    rows = db.session.execute(
        sa.select(
            VendorMonthlyVolume.year,
            VendorMonthlyVolume.month,
            VendorMonthlyVolume.total_sales,
            VendorMonthlyVolume.total_orders,
        ).where(
            VendorMonthlyVolume.vendor_id == vendor_id,
            sa.tuple_(VendorMonthlyVolume.year, VendorMonthlyVolume.month)
            >= (wanted[0].year, wanted[0].month),
        )
    ).all()
    found = {Period(year, month): (sales, orders) for year, month, sales, orders in rows}
    return [MonthSales(period, *found.get(period, (ZERO, 0))) for period in wanted]


def vendor_dashboard(vendor_id: uuid.UUID, today: date) -> VendorDashboard:
    shop_tier = tier_for_shop(vendor_id)
    months = sales_by_month(vendor_id, today)
    month_to_date = months[-1].total_sales
    return VendorDashboard(
        shop_tier=shop_tier,
        month_to_date_sales=month_to_date,
        progress=tier_progress(month_to_date),
        commission_by_status=commission_totals(vendor_id),
        fees_this_month=fees_since(vendor_id, Period.containing(today).start),
        sales_by_month=months,
    )
