"""A vendor's commission statement: one row per sale or refund, with its fee and the vendor's net.

Each commission record is paired with the platform-fee row of the same sale or refund
(same order, same ``refund_id``, NULL for the sale itself), and named by its order's number.
The totals row never sums a shop's whole history: unfiltered by month it reads the kept per-shop
totals (``vendor_commission_totals``); a month's is summed over that month's partition only.
A record's status is as it is, not as stored: a record whose payout is paid reads ``paid`` before
the marking job writes it (``payouts.payable.record_status``), and the kept totals are corrected
for those records (``paid_unmarked_totals``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..orders.models import VendorOrderNumber
from ..pagination import Cursor, KeysetPage, PageRequest, ends, keyset_rows
from ..payouts.payable import paid_unmarked_totals, record_status, status_is
from ..periods import Period
from ..tiers.models import VendorMonthlyVolume
from .models import CommissionRecord, VendorCommissionTotal, VendorPlatformFee
from .services import vendor_net

STATUSES = ("pending", "settled", "paid")
#: A record's status in the shop's words.
STATUS_WORDS = {"pending": "Pending", "settled": "Settled", "paid": "Paid out"}
CSV_HEADER = [
    "date",
    "order",
    "order_id",
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
    order_number: int | None
    is_refund: bool
    amount: Decimal
    commission_rate: Decimal
    commission: Decimal
    fee_rate: Decimal | None
    fee: Decimal
    status: str

    @property
    def net(self) -> Decimal:
        return vendor_net(self.amount, self.commission, self.fee)

    @property
    def order_label(self) -> str:
        return f"#{self.order_number}" if self.order_number is not None else "—"

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


@dataclass(frozen=True)
class StatementTotals:
    """The sums of every row the filters select, on every page (the totals row)."""

    rows: int
    amount: Decimal
    commission: Decimal
    fee: Decimal

    @property
    def net(self) -> Decimal:
        return vendor_net(self.amount, self.commission, self.fee)


@dataclass(frozen=True)
class StatementPage(KeysetPage):
    rows: list[StatementRow]
    total_rows: int
    has_newer: bool
    has_older: bool
    first: Cursor | None
    last: Cursor | None
    totals: StatementTotals
    count_is_exact: bool = True  # the totals' count is exact (kept, or a month's own)


def _paired_fee():
    """The platform-fee row of a commission record's sale or refund (joined to the record)."""
    fee = sa.orm.aliased(VendorPlatformFee)
    return fee, sa.and_(
        fee.order_id == CommissionRecord.order_id,
        fee.vendor_id == CommissionRecord.shop_id,
        fee.refund_id.is_not_distinct_from(CommissionRecord.refund_id),
    )


def _selected(query: sa.Select, vendor_id: uuid.UUID, filters: StatementFilter) -> sa.Select:
    query = query.where(CommissionRecord.shop_id == vendor_id)
    bounds = filters.bounds()
    if bounds:
        # Bounded on the partition key: only that month's partition is read.
        query = query.where(
            CommissionRecord.created_at >= bounds[0], CommissionRecord.created_at < bounds[1]
        )
    if filters.status:
        query = query.where(status_is(filters.status, vendor_id))
    return query


def _statement_query(vendor_id: uuid.UUID, filters: StatementFilter) -> sa.Select:
    fee, paired = _paired_fee()
    query = (
        sa.select(
            CommissionRecord.created_at,
            CommissionRecord.order_id,
            VendorOrderNumber.number,
            CommissionRecord.refund_id.is_not(None).label("is_refund"),
            CommissionRecord.order_amount,
            CommissionRecord.commission_rate,
            CommissionRecord.commission_amount,
            fee.fee_percentage,
            sa.func.coalesce(fee.fee_amount, 0),
            record_status(vendor_id),
        )
        .outerjoin(fee, paired)
        # The order's number: one probe of the side table's unique order_id, not of orders.
        .outerjoin(VendorOrderNumber, VendorOrderNumber.order_id == CommissionRecord.order_id)
    )
    return _selected(query, vendor_id, filters)


def statement_totals(vendor_id: uuid.UUID, filters: StatementFilter) -> StatementTotals:
    """The rows the filters select, counted and summed, never visiting a large shop's every
    record: unfiltered by month, the kept per-status totals answer it exactly (a few rows);
    within a month it is summed over that month's partition alone."""
    if filters.bounds() is None:
        kept = VendorCommissionTotal
        query = sa.select(
            *(
                sa.func.coalesce(sa.func.sum(column), 0)
                for column in (
                    kept.record_count,
                    kept.amount_total,
                    kept.commission_total,
                    kept.fee_total,
                )
            )
        ).where(kept.shop_id == vendor_id)
        if filters.status:
            query = query.where(kept.status == filters.status)
    else:
        fee, paired = _paired_fee()
        query = _selected(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(CommissionRecord.order_amount), 0),
                sa.func.coalesce(sa.func.sum(CommissionRecord.commission_amount), 0),
                sa.func.coalesce(sa.func.sum(fee.fee_amount), 0),
            )
            .select_from(CommissionRecord)
            .outerjoin(fee, paired),
            vendor_id,
            filters,
        )
    sums = [Decimal(value) for value in db.session.execute(query).one()]
    if filters.bounds() is None and filters.status in ("settled", "paid"):
        # Paid records the marking job has not written yet count as settled in the kept totals.
        sign = 1 if filters.status == "paid" else -1
        gap = db.session.execute(paid_unmarked_totals(vendor_id)).one()
        sums = [kept + sign * Decimal(moved) for kept, moved in zip(sums, gap, strict=True)]
    rows, amount, commission, fee_total = sums
    return StatementTotals(int(rows), amount, commission, fee_total)


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
    totals = statement_totals(vendor_id, filters)
    return StatementPage(
        [StatementRow(*row[:-1]) for row in found],
        totals.rows,
        has_newer,
        has_older,
        *ends(found, "record_id"),
        totals,
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
            line.order_label,
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


def payout_statement_rows(
    vendor_id: uuid.UUID, listed: sa.Subquery
) -> list[tuple[uuid.UUID, StatementRow]]:
    """The records that payouts of a vendor list, as statement rows (oldest first), each with its
    payout's id: the vendor's payout detail and its CSV export. ``listed`` has the columns
    ``payout_id`` and ``record_id`` (payouts.payable.listed_records)."""
    query = (
        _statement_query(vendor_id, StatementFilter())
        .add_columns(listed.c.payout_id)
        .join(listed, listed.c.record_id == CommissionRecord.id)
        .order_by(CommissionRecord.created_at, CommissionRecord.id)
    )
    return [(row[-1], StatementRow(*row[:-1])) for row in db.session.execute(query)]
