"""What a driver's payouts page and earnings statement show (``driver_views.py`` renders them).

The page: the Stripe account's state (``account_state``, as a vendor's), the next payout (the
settled earnings the next run pays, ``driver_runs.payable_total``; what is still settling; the
hold, if the last run held the driver) and the payouts. The statement: one line per delivered
delivery (date, pay, tip, total, the payout that paid it) for a month or for all time, and its CSV.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..periods import Period
from .account_state import AccountState, account_state
from .driver_models import DRIVER_HOLD_WORDS, DriverEarning, DriverPayoutHold
from .driver_runs import payable_total
from .holders import DRIVER, Holder
from .models import Payout
from .vendor_page import PayoutLine, next_run_at, payout_lines_query

HISTORY_LIMIT = 50
STATEMENT_LIMIT = 1000  # lines on the page; the CSV has every one
EARNING_WORDS = {"pending": "Settling", "settled": "Next payout", "paid": "Paid"}


@dataclass(frozen=True)
class DriverHold:
    words: str
    since: datetime
    amount_waiting: Decimal


@dataclass(frozen=True)
class NextDriverPayout:
    amount: Decimal
    deliveries: int
    settling: Decimal  # delivered, not settled yet
    settling_deliveries: int
    settle_days: int
    date: datetime | None
    hold: DriverHold | None


@dataclass(frozen=True)
class DriverPayoutsOverview:
    account: AccountState
    next_payout: NextDriverPayout
    history: list[PayoutLine]


def overview(driver_id: uuid.UUID) -> DriverPayoutsOverview:
    return DriverPayoutsOverview(
        account=account_state(Holder(DRIVER, driver_id)),
        next_payout=next_payout(driver_id),
        history=payout_history(driver_id),
    )


def next_payout(driver_id: uuid.UUID) -> NextDriverPayout:
    amount, count = payable_total(driver_id)
    settling, settling_count = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(DriverEarning.amount), 0), sa.func.count()).where(
            DriverEarning.driver_id == driver_id, DriverEarning.status == "pending"
        )
    ).one()
    row = db.session.get(DriverPayoutHold, driver_id)
    hold = (
        DriverHold(DRIVER_HOLD_WORDS[row.reason], row.held_since, row.amount_waiting)
        if row is not None
        else None
    )
    return NextDriverPayout(
        amount=amount,
        deliveries=count,
        settling=Decimal(settling),
        settling_deliveries=settling_count,
        settle_days=current_app.config["DRIVER_EARNINGS_SETTLE_DAYS"],
        date=next_run_at(),
        hold=hold,
    )


def payout_history(driver_id: uuid.UUID, limit: int = HISTORY_LIMIT) -> list[PayoutLine]:
    query = payout_lines_query(Payout.driver_id, driver_id, Payout.earning_ids).limit(limit)
    return [PayoutLine(*row) for row in db.session.execute(query)]


# --- the earnings statement -------------------------------------------------------------------


@dataclass(frozen=True)
class EarningLine:
    delivered_at: datetime
    pay: Decimal
    tip: Decimal
    total: Decimal
    status: str
    payout_date: datetime | None

    @property
    def status_words(self) -> str:
        return EARNING_WORDS[self.status]


@dataclass(frozen=True)
class Statement:
    month: Period | None  # None: all time
    lines: list[EarningLine]
    count: int
    pay: Decimal
    tip: Decimal
    total: Decimal

    @property
    def truncated(self) -> bool:
        return self.count > len(self.lines)


def _in_month(query: sa.Select, month: Period | None) -> sa.Select:
    if month is None:
        return query
    return query.where(
        DriverEarning.delivered_at >= month.start, DriverEarning.delivered_at < month.end
    )


def _lines(driver_id: uuid.UUID, month: Period | None, limit: int | None) -> Iterator[EarningLine]:
    query = _in_month(
        sa.select(
            DriverEarning.delivered_at,
            DriverEarning.pay,
            DriverEarning.tip,
            DriverEarning.amount,
            DriverEarning.status,
            Payout.processed_at,
        )
        .outerjoin(Payout, Payout.id == DriverEarning.payout_id)
        .where(DriverEarning.driver_id == driver_id)
        .order_by(DriverEarning.delivered_at.desc(), DriverEarning.id),
        month,
    )
    if limit is not None:
        query = query.limit(limit)
    for row in db.session.execute(query):
        yield EarningLine(*row)


def statement(driver_id: uuid.UUID, month: Period | None) -> Statement:
    count, pay, tip, total = db.session.execute(
        _in_month(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(DriverEarning.pay), 0),
                sa.func.coalesce(sa.func.sum(DriverEarning.tip), 0),
                sa.func.coalesce(sa.func.sum(DriverEarning.amount), 0),
            ).where(DriverEarning.driver_id == driver_id),
            month,
        )
    ).one()
    lines = list(_lines(driver_id, month, STATEMENT_LIMIT))
    return Statement(month, lines, count, Decimal(pay), Decimal(tip), Decimal(total))


def statement_months(driver_id: uuid.UUID) -> list[Period]:
    """The months with earnings, newest first (the filter's choices)."""
    firsts = db.session.scalars(
        sa.select(sa.func.date_trunc("month", DriverEarning.delivered_at).label("m"))
        .where(DriverEarning.driver_id == driver_id)
        .distinct()
        .order_by(sa.text("m DESC"))
    ).all()
    return [Period(first.year, first.month) for first in firsts]


CSV_HEADER = ["Delivered (UTC)", "Pay", "Tip", "Total", "Status", "Paid on (UTC)"]


def statement_csv_rows(driver_id: uuid.UUID, month: Period | None) -> Iterator[list]:
    for line in _lines(driver_id, month, None):
        yield [
            line.delivered_at.strftime("%Y-%m-%d %H:%M"),
            f"{line.pay:.2f}",
            f"{line.tip:.2f}",
            f"{line.total:.2f}",
            line.status_words,
            line.payout_date.strftime("%Y-%m-%d") if line.payout_date else "",
        ]
