"""A vendor's commission statement: one row per sale or refund, with its fee and the vendor's net.

Each commission record is paired with the platform-fee row of the same sale or refund
(same order, same ``refund_id``, NULL for the sale itself).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..pagination import Cursor, KeysetPage, PageRequest, capped_count, ends, keyset_rows
from ..periods import Period
from ..tiers.models import VendorMonthlyVolume
from .models import CommissionRecord, VendorCommissionTotal, VendorPlatformFee

STATUSES = ("pending", "settled", "paid")
CSV_HEADER = [
    "date",
    "order",
    "kind",
    "amount",
    "commission_rate",
    "commission",
    "fee_rate",
    "fee",
    "net",
    "status",
]


@dataclass(frozen=True)
class StatementFilter:
    year: int | None = None
    month: int | None = None
    status: str | None = None

    def bounds(self) -> tuple[datetime, datetime] | None:
        if self.year is None or self.month is None:
            return None
        period = Period(self.year, self.month)
        return period.start, period.end


@dataclass(frozen=True)
class StatementRow:
    created_at: datetime
    order_id: uuid.UUID
    is_refund: bool
    amount: Decimal
    commission_rate: Decimal
    commission: Decimal
    fee_rate: Decimal | None
    fee: Decimal
    status: str

    @property
    def net(self) -> Decimal:
        return self.amount - self.commission - self.fee


@dataclass(frozen=True)
class StatementPage(KeysetPage):
    rows: list[StatementRow]
    total_rows: int
    has_newer: bool
    has_older: bool
    first: Cursor | None
    last: Cursor | None
    count_is_exact: bool


def _statement_query(vendor_id: uuid.UUID, filters: StatementFilter) -> sa.Select:
    fee = sa.orm.aliased(VendorPlatformFee)
    query = (
        sa.select(
            CommissionRecord.created_at,
            CommissionRecord.order_id,
            CommissionRecord.refund_id.is_not(None).label("is_refund"),
            CommissionRecord.order_amount,
            CommissionRecord.commission_rate,
            CommissionRecord.commission_amount,
            fee.fee_percentage,
            sa.func.coalesce(fee.fee_amount, 0),
            CommissionRecord.status,
        )
        .outerjoin(
            fee,
            sa.and_(
                fee.order_id == CommissionRecord.order_id,
                fee.vendor_id == CommissionRecord.shop_id,
                fee.refund_id.is_not_distinct_from(CommissionRecord.refund_id),
            ),
        )
        .where(CommissionRecord.shop_id == vendor_id)
    )
    bounds = filters.bounds()
    if bounds:
        # Bounded on the partition key: only that month's partition is read.
        query = query.where(
            CommissionRecord.created_at >= bounds[0], CommissionRecord.created_at < bounds[1]
        )
    if filters.status:
        query = query.where(CommissionRecord.status == filters.status)
    return query


def count_rows(vendor_id: uuid.UUID, filters: StatementFilter) -> tuple[int, bool]:
    """How many rows the statement has, and whether that is exact, never visiting a large shop's
    every record.

    Unfiltered by month, the running per-status counts answer it exactly; within a month it is
    counted up to ``COUNT_CAP`` on that month's partition. The fee join never changes the count
    (one fee row per sale or refund).
    """
    if filters.bounds() is None:
        query = sa.select(
            sa.func.coalesce(sa.func.sum(VendorCommissionTotal.record_count), 0)
        ).where(VendorCommissionTotal.shop_id == vendor_id)
        if filters.status:
            query = query.where(VendorCommissionTotal.status == filters.status)
        return db.session.scalar(query), True
    start, end = filters.bounds()
    query = sa.select(CommissionRecord.id).where(
        CommissionRecord.shop_id == vendor_id,
        CommissionRecord.created_at >= start,
        CommissionRecord.created_at < end,
    )
    if filters.status:
        query = query.where(CommissionRecord.status == filters.status)
    return capped_count(query), False


def statement_page(
    vendor_id: uuid.UUID,
    filters: StatementFilter,
    at: PageRequest | None = None,
    per_page: int = 25,
) -> StatementPage:
    """A page of the statement, newest first, keyset-paged on ``idx_commission_shop_date``."""
    query = _statement_query(vendor_id, filters).add_columns(CommissionRecord.id.label("record_id"))
    found, has_newer, has_older = keyset_rows(
        query, CommissionRecord.created_at, CommissionRecord.id, at or PageRequest(), per_page
    )
    total, exact = count_rows(vendor_id, filters)
    return StatementPage(
        [StatementRow(*row[:-1]) for row in found],
        total,
        has_newer,
        has_older,
        *ends(found, "record_id"),
        exact,
    )


def statement_csv_rows(vendor_id: uuid.UUID, filters: StatementFilter) -> Iterator[list]:
    """The same rows as the page, all of them, as CSV cells (oldest first; amounts stay numbers)."""
    query = _statement_query(vendor_id, filters).order_by(
        CommissionRecord.created_at, CommissionRecord.id
    )
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        line = StatementRow(*row)
        yield [
            line.created_at.strftime("%Y-%m-%d %H:%M"),
            line.order_id,
            "refund" if line.is_refund else "sale",
            line.amount,
            line.commission_rate,
            line.commission,
            "" if line.fee_rate is None else line.fee_rate,
            line.fee,
            line.net,
            line.status,
        ]


def statement_months(vendor_id: uuid.UUID) -> list[tuple[int, int]]:
    """The months a vendor has records in, newest first (from the monthly volumes, not a scan)."""
    rows = db.session.execute(
        sa.select(VendorMonthlyVolume.year, VendorMonthlyVolume.month)
        .where(VendorMonthlyVolume.vendor_id == vendor_id)
        .order_by(VendorMonthlyVolume.year.desc(), VendorMonthlyVolume.month.desc())
    ).all()
    return [tuple(row) for row in rows]
