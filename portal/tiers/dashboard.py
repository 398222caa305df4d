"""What a vendor's dashboard shows: tier, progress to the next one, money totals, a year of sales.

Everything is read from the monthly volumes, the tier row and indexed commission/fee lookups, never
from a scan of all orders, so the page stays fast for shops with years of history.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ..commissions.models import VendorCommissionTotal, VendorPlatformFee
from ..extensions import db
from ..payouts.payable import paid_unmarked_commission
from ..periods import Period
from ..vendors.models import Vendor
from ..vendors.onboarding import first_step_probes
from .models import ShopTier, VendorMonthlyVolume
from .rules import earned_tier, next_tier, tier_threshold

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


# The tier row's columns the dashboard shows (read as plain columns, not as an ORM entity).
TIER_COLUMNS = (
    ShopTier.tier,
    ShopTier.earned_tier,
    ShopTier.commission_rate,
    ShopTier.is_promotional,
    ShopTier.promotional_reason,
    ShopTier.promotional_expires_at,
)


@dataclass(frozen=True)
class TierSummary:
    tier: str
    earned_tier: str
    commission_rate: Decimal
    is_promotional: bool
    promotional_reason: str | None
    promotional_expires_at: datetime | None


@dataclass(frozen=True)
class VendorDashboard:
    shop_tier: TierSummary
    month_to_date_sales: Decimal
    progress: TierProgress
    commission_by_status: dict[str, Decimal]
    fees_this_month: Decimal
    sales_by_month: list[MonthSales]
    first_steps: tuple[
        bool, bool, bool, bool
    ]  # vendors.onboarding.first_step_probes, read here too


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


def _array(column, *where, order_by) -> sa.ScalarSelect:
    """``(SELECT array_agg(column ORDER BY ...) WHERE ...)``: one column of a few rows as a list."""
    return (
        sa.select(sa.func.array_agg(aggregate_order_by(column, *order_by)))
        .where(*where)
        .scalar_subquery()
    )


@functools.cache
def _dashboard_statement() -> sa.Select:
    """Everything the dashboard reads, in one round trip: the tier row, with the commission totals,
    this month's fees and the months' volumes as arrays beside it, and the first steps' two
    existence probes (each an indexed lookup: ``unique_shop_tier``, the running totals' key,
    ``idx_platform_fee_vendor_date``, ``idx_volume_vendor_date``, ``unique_vendor_sku``).

    Built once, with bound parameters (``_dashboard_parameters``): a statement object that is
    reused keeps its SQLAlchemy cache key instead of computing it again on every request."""
    vendor_id = sa.bindparam("vendor_id")
    totals = (VendorCommissionTotal.shop_id == vendor_id,)
    by_status = (VendorCommissionTotal.status,)
    volumes = (
        VendorMonthlyVolume.vendor_id == vendor_id,
        sa.tuple_(VendorMonthlyVolume.year, VendorMonthlyVolume.month)
        >= sa.tuple_(
            sa.bindparam("first_year", type_=sa.Integer),
            sa.bindparam("first_month", type_=sa.Integer),
        ),
    )
    by_month = (VendorMonthlyVolume.year, VendorMonthlyVolume.month)
    fees = (
        sa.select(sa.func.sum(VendorPlatformFee.fee_amount))
        .where(
            VendorPlatformFee.vendor_id == vendor_id,
            VendorPlatformFee.created_at >= sa.bindparam("month_start"),
        )
        .scalar_subquery()
    )
    return (
        sa.select(
            *TIER_COLUMNS,
            _array(VendorCommissionTotal.status, *totals, order_by=by_status),
            _array(VendorCommissionTotal.commission_total, *totals, order_by=by_status),
            fees,
            # Paid records the marking job has not written yet (payouts.payable).
            paid_unmarked_commission(vendor_id),
            _array(VendorMonthlyVolume.year, *volumes, order_by=by_month),
            _array(VendorMonthlyVolume.month, *volumes, order_by=by_month),
            _array(VendorMonthlyVolume.total_sales, *volumes, order_by=by_month),
            _array(VendorMonthlyVolume.total_orders, *volumes, order_by=by_month),
            *first_step_probes(vendor_id),  # the first steps the dashboard shows: no extra trip
        )
        # From the shop, so a shop without a tier row (never the case after sign-up) still reads.
        .select_from(Vendor)
        .outerjoin(ShopTier, ShopTier.shop_id == Vendor.id)
        .where(Vendor.id == vendor_id)
    )


def _dashboard_parameters(vendor_id: uuid.UUID, today: date, months: int) -> dict:
    this_month = Period.containing(today)
    first = this_month.last(months)[0]
    return {
        "vendor_id": vendor_id,
        "first_year": first.year,
        "first_month": first.month,
        "month_start": this_month.start,
    }


def _months(today: date, months: int, years, month_numbers, sales, orders) -> list[MonthSales]:
    found = {
        Period(year, month): (total, count)
        for year, month, total, count in zip(
            years or (), month_numbers or (), sales or (), orders or (), strict=True
        )
    }
    return [
        MonthSales(period, *found.get(period, (ZERO, 0)))
        for period in Period.containing(today).last(months)
    ]


def vendor_dashboard(vendor_id: uuid.UUID, today: date, months: int = 12) -> VendorDashboard:
    # On the session's connection, as a Core statement: it reads columns, so the ORM's loading
    # would be overhead on the busiest page (docs/performance.md).
    row = (
        db.session.connection()
        .execute(_dashboard_statement(), _dashboard_parameters(vendor_id, today, months))
        .one()
    )
    tier_columns, rest = row[: len(TIER_COLUMNS)], row[len(TIER_COLUMNS) :]
    (
        statuses,
        commissions,
        fees,
        unmarked,
        *volumes,
        has_product,
        has_order,
        payouts_on,
        link_shared,
    ) = rest
    sales = _months(today, months, *volumes)
    commission_by_status = {"pending": ZERO, "settled": ZERO, "paid": ZERO}
    commission_by_status.update(zip(statuses or (), commissions or (), strict=True))
    commission_by_status["settled"] -= unmarked
    commission_by_status["paid"] += unmarked
    month_to_date = sales[-1].total_sales
    return VendorDashboard(
        shop_tier=TierSummary(*tier_columns) if tier_columns[0] is not None else None,
        month_to_date_sales=month_to_date,
        progress=tier_progress(month_to_date),
        commission_by_status=commission_by_status,
        fees_this_month=fees or ZERO,
        sales_by_month=sales,
        first_steps=(bool(has_product), bool(has_order), bool(payouts_on), bool(link_shared)),
    )
