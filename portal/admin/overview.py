"""The admin overview's figures in words, the list of what needs attention, and the operations
page's partitions named by month ("Sep 2026" rather than PostgreSQL's bound text).

Every figure reads a small table or a kept aggregate: this month's orders and sales are the sums
of ``vendor_monthly_volumes`` (one row per shop and month, kept by order intake), never a count
over the orders partitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..deliveries.models import Driver
from ..extensions import db
from ..operations.partitions import PartitionInfo, list_partitions
from ..pagination import Paged, clamp_page
from ..periods import Period
from ..tiers.models import MonthClose, VendorMonthlyVolume
from ..vendors.models import Vendor


@dataclass(frozen=True)
class MarketplaceNumbers:
    month: Period
    shops: int
    orders_this_month: int
    sales_this_month: Decimal
    drivers_awaiting_verification: int


@dataclass(frozen=True)
class Attention:
    """One thing an admin should act on: what, and where to go."""

    text: str
    endpoint: str | None = None


def awaiting_verification():
    return sa.or_(Driver.insurance_verified.is_not(True), Driver.background_check_status != "clear")


@dataclass(frozen=True)
class DriverPage(Paged):
    rows: list[Driver]
    page: int
    per_page: int
    total_rows: int


def drivers_to_verify(page: int = 1, per_page: int = 50) -> DriverPage:
    """Drivers whose insurance or background check is not verified yet, longest waiting first."""
    query = sa.select(Driver).where(awaiting_verification())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    rows = db.session.scalars(
        query.order_by(Driver.created_at, Driver.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return DriverPage(list(rows), page, per_page, total)


def marketplace_numbers(today: date) -> MarketplaceNumbers:
    period = Period.containing(today)
    orders, sales = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(VendorMonthlyVolume.total_orders), 0),
            sa.func.coalesce(sa.func.sum(VendorMonthlyVolume.total_sales), 0),
        ).where(VendorMonthlyVolume.year == period.year, VendorMonthlyVolume.month == period.month)
    ).one()
    count = lambda stmt: db.session.scalar(stmt) or 0  # noqa: E731
    return MarketplaceNumbers(
        month=period,
        shops=count(sa.select(sa.func.count()).select_from(Vendor)),
        orders_this_month=int(orders),
        sales_this_month=Decimal(sales),
        drivers_awaiting_verification=count(
            sa.select(sa.func.count()).select_from(Driver).where(awaiting_verification())
        ),
    )


def needs_attention(
    today: date, numbers: MarketplaceNumbers, failed_jobs: int = 0
) -> list[Attention]:
    """What an admin should act on now; later issues add matches waiting."""
    items = []
    previous = Period.containing(today).previous()
    close_status = db.session.scalar(
        sa.select(MonthClose.status).where(
            MonthClose.year == previous.year, MonthClose.month == previous.month
        )
    )
    if close_status != "done":
        state = {"failed": "failed", "queued": "is queued", "running": "is running"}.get(
            close_status, "has not run"
        )
        items.append(Attention(f"The close of {previous.label} {state}.", "admin.month_close_page"))
    if numbers.drivers_awaiting_verification:
        word = "driver is" if numbers.drivers_awaiting_verification == 1 else "drivers are"
        items.append(
            Attention(
                f"{numbers.drivers_awaiting_verification} {word} awaiting verification.",
                "admin.drivers",
            )
        )
    if failed_jobs:
        word = "job has" if failed_jobs == 1 else "jobs have"
        items.append(Attention(f"{failed_jobs:,} background {word} failed.", "admin.operations"))
    return items


_BOUND = re.compile(r"FROM \('(\d{4})-(\d{2})-01[^']*'\) TO \('(\d{4})-(\d{2})-01[^']*'\)")


@dataclass(frozen=True)
class PartitionRow:
    table: str
    name: str
    period: str  # "Sep 2026", "Sep 2026 to Nov 2026", or what the default holds
    rows: int
    rows_exact: bool


def partition_period(partition: PartitionInfo) -> str:
    """The months a partition holds, in words."""
    if partition.is_default:
        return "Anything outside the months above"
    match = _BOUND.search(partition.bounds)
    if not match:
        return partition.bounds
    first = Period(int(match.group(1)), int(match.group(2)))
    last = Period(int(match.group(3)), int(match.group(4))).previous()
    return first.label if first == last else f"{first.label} to {last.label}"


def partition_rows() -> list[PartitionRow]:
    return [
        PartitionRow(p.table, p.name, partition_period(p), p.rows, p.rows_exact)
        for p in list_partitions()
    ]
