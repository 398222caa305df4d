"""What the vendor's referrals page shows: visits, conversions, revenue and lifetime value of the
shop's referral link, by UTM source and campaign, over a chosen period, and by week.

Counts and revenue come from ``referral_daily_stats``, which the attribution code adds to as
visits, conversions and orders happen and which retention never decrements, so any period's
figures stay right after old unconverted ``shop_referrals`` rows are deleted. A conversion, an
order and its revenue are counted on the day they happen, under the UTM values of the visit they
came from. The page reads the daily rows through their sums that triggers keep
(``referral_monthly_stats`` by month, source and campaign for the table; ``referral_shop_days``
per day for the totals and the chart), so a period costs its months and days, not its days times
every UTM triple. Periods are therefore whole UTC months (``portal.periods``), as on the shop's
other pages: the last 3 or 12 months (the running one included), one month, or all time.

Lifetime value needs each converted visit's running total, which no daily row holds: it is the
average ``lifetime_value`` (what the customer has spent with the shop since the visit, refunds
subtracted) of the visits *converted in the period*, as ``shop_referrals`` holds it now. The same
sums hold those visits' count and lifetime values by the month and the day they converted, kept
by triggers on ``shop_referrals``; retention deletes only unconverted rows, which changes none of
them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ..clock import today
from ..extensions import db
from ..money import to_money
from ..periods import Period, PeriodError
from .models import ReferralMonthlyStat, ReferralShopDay

#: Rows the page's table shows (the sources with most visits); the CSV has every row.
TABLE_ROWS = 100

#: The period a page opens on, and the ones the picker offers besides single months.
DEFAULT_PERIOD = "3m"
RECENT = {"3m": ("Last 3 months", 3), "12m": ("Last 12 months", 12)}
ALL_TIME = "all"
PICKER_MONTHS = 12


@dataclass(frozen=True)
class ReportPeriod:
    """Whole months: days ``start <= day < end`` (UTC); ``start`` None: since the first visit."""

    key: str  # what the picker sends: "3m", "all", "2026-09"
    label: str
    start: date | None
    end: date

    @property
    def start_instant(self) -> datetime | None:
        return datetime.combine(self.start, time(), UTC) if self.start else None

    @property
    def end_instant(self) -> datetime:
        return datetime.combine(self.end, time(), UTC)


def report_period(text: str | None, *, on: date | None = None) -> ReportPeriod:
    """The period named by the picker's value; :class:`PeriodError` with the reason otherwise."""
    text = (text or "").strip() or DEFAULT_PERIOD
    this_month = Period.containing(on or today())
    end = this_month.end.date()
    if text in RECENT:
        label, months = RECENT[text]
        return ReportPeriod(text, label, this_month.shift(1 - months).first_day, end)
    if text == ALL_TIME:
        return ReportPeriod(text, "All time", None, end)
    try:
        month = Period.parse(text)
    except PeriodError:
        raise PeriodError(
            f"{text!r} is not a period: choose one from the list, or a month as YYYY-MM."
        ) from None
    return ReportPeriod(str(month), month.label, month.first_day, month.end.date())


def picker_choices(chosen: ReportPeriod, *, on: date | None = None) -> list[tuple[str, str]]:
    """(value, label) of the picker: recent months, each of the last months, all time; a month
    chosen by its address that is older than the list is added so the picker shows it."""
    this_month = Period.containing(on or today())
    months = [(str(m), m.label) for m in reversed(this_month.last(PICKER_MONTHS))]
    named = {*RECENT, ALL_TIME}
    if chosen.key not in named and (chosen.key, chosen.label) not in months:
        months.append((chosen.key, chosen.label))
    return [*((key, label) for key, (label, _) in RECENT.items()), *months, (ALL_TIME, "All time")]


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    source: str  # '' when the link carried none
    campaign: str
    visits: int
    conversions: int
    orders: int
    revenue: Decimal
    converted_visits: int  # visits converted in the period (for lifetime value)
    lifetime_total: Decimal  # their lifetime values summed

    @property
    def conversion_rate(self) -> Decimal | None:
        if not self.visits:
            return None
        return Decimal(self.conversions) / Decimal(self.visits)

    @property
    def lifetime_value(self) -> Decimal | None:
        """The average converted visit's lifetime value; None with no conversion."""
        if not self.converted_visits:
            return None
        return to_money(self.lifetime_total / self.converted_visits)


@dataclass(frozen=True)
class WeekPoint:
    week: date  # its Monday
    visits: int
    conversions: int


@dataclass(frozen=True)
class ReferralReport:
    period: ReportPeriod
    rows: list[SourceRow]  # at most TABLE_ROWS, most visits first
    more_rows: bool  # the table left rows out (the CSV has them)
    total: SourceRow
    weeks: list[WeekPoint]

    @property
    def is_empty(self) -> bool:
        return self.total.visits == 0 and self.total.conversions == 0


def _bounds(column, shop_column, shop_id: uuid.UUID, period: ReportPeriod) -> list:
    where = [shop_column == shop_id, column < period.end]
    if period.start is not None:
        where.append(column >= period.start)
    return where


def _sums(table):
    return (
        sa.func.coalesce(sa.func.sum(table.visits), 0).label("visits"),
        sa.func.coalesce(sa.func.sum(table.conversions), 0).label("conversions"),
        sa.func.coalesce(sa.func.sum(table.orders), 0).label("orders"),
        sa.func.coalesce(sa.func.sum(table.revenue), 0).label("revenue"),
        sa.func.coalesce(sa.func.sum(table.converted_visits), 0).label("converted_visits"),
        sa.func.coalesce(sa.func.sum(table.lifetime_value), 0).label("lifetime_value"),
    )


def _group_rows(shop_id: uuid.UUID, period: ReportPeriod, limit: int | None) -> list:
    m = ReferralMonthlyStat
    statement = (
        sa.select(m.utm_source, m.utm_campaign, *_sums(m))
        .where(*_bounds(m.month, m.shop_id, shop_id, period))
        .group_by(m.utm_source, m.utm_campaign)
        .order_by(sa.desc("visits"), m.utm_source, m.utm_campaign)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.execute(statement))


def _source_row(source, campaign, *sums) -> SourceRow:
    visits, conversions, orders, revenue, converted, lifetime_total = sums
    return SourceRow(
        source,
        campaign,
        int(visits),
        int(conversions),
        int(orders),
        to_money(revenue),
        int(converted),
        Decimal(lifetime_total),
    )


def _weeks(shop_id: uuid.UUID, period: ReportPeriod) -> tuple[list[WeekPoint], tuple]:
    """The period's weeks (each Monday's, empty ones included) and its totals (the columns of
    ``_sums``): one read of the shop's days."""
    d = ReferralShopDay
    week = sa.cast(sa.func.date_trunc("week", d.day), sa.Date).label("week")
    found = {
        row.week: row
        for row in db.session.execute(
            sa.select(week, *_sums(d))
            .where(*_bounds(d.day, d.shop_id, shop_id, period))
            .group_by(week)
        )
    }
    sums = [row[1:] for row in found.values()]
    totals = (
        tuple(sum(column) for column in zip(*sums, strict=True)) if sums else (0,) * len(_sums(d))
    )
    if not found and period.start is None:
        return [], totals
    first = period.start or min(found)
    monday = first - timedelta(days=first.weekday())
    points = []
    while monday < period.end:
        row = found.get(monday)
        points.append(
            WeekPoint(monday, int(row.visits) if row else 0, int(row.conversions) if row else 0)
        )
        monday += timedelta(days=7)
    return points, totals


def referral_report(shop_id: uuid.UUID, period: ReportPeriod) -> ReferralReport:
    rows = [_source_row(*row) for row in _group_rows(shop_id, period, TABLE_ROWS + 1)]
    weeks, totals = _weeks(shop_id, period)
    total = _source_row("", "", *totals)
    return ReferralReport(period, rows[:TABLE_ROWS], len(rows) > TABLE_ROWS, total, weeks)


# --- the CSV ----------------------------------------------------------------------------------

CSV_HEADER = (
    "Source",
    "Campaign",
    "Visits",
    "Conversions",
    "Conversion rate",
    "Orders",
    "Revenue",
    "Lifetime value",
)


def csv_rows(shop_id: uuid.UUID, period: ReportPeriod) -> Iterator[list]:
    for group in _group_rows(shop_id, period, None):
        row = _source_row(*group)
        rate = row.conversion_rate
        value = row.lifetime_value
        yield [
            row.source,
            row.campaign,
            row.visits,
            row.conversions,
            f"{rate:.4f}" if rate is not None else "",
            row.orders,
            f"{row.revenue:.2f}",
            f"{value:.2f}" if value is not None else "",
        ]
