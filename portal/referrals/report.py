"""What the vendor's referrals page shows: visits, conversions, revenue and lifetime value of the
shop's referral link, by UTM source and campaign, over a chosen period, and by week.

Counts and revenue come from ``referral_daily_stats``, which the attribution code adds to as
visits, conversions and orders happen and which retention never decrements, so any period's
figures stay right after old unconverted ``shop_referrals`` rows are deleted. A conversion, an
order and its revenue are counted on the day they happen, under the UTM values of the visit they
came from.

Lifetime value needs each converted visit's running total, which no daily row holds: it is the
average ``lifetime_value`` (what the customer has spent with the shop since the visit, refunds
subtracted) of the visits *converted in the period*, read from ``shop_referrals``. Retention
deletes only unconverted rows, so these rows stay; the partial index
``idx_referrals_shop_converted`` keeps the read to the shop's converted visits.
"""

from __future__ import annotations

import re
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
from .models import ReferralDailyStat, ShopReferral

#: Rows the page's table shows (the sources with most visits); the CSV has every row.
TABLE_ROWS = 100

#: The period a page opens on, and the rolling ones the picker offers besides calendar months.
DEFAULT_PERIOD = "90d"
ROLLING = {
    "30d": ("Last 30 days", 30),
    "90d": ("Last 90 days", 90),
    "365d": ("Last 12 months", 365),
}
ALL_TIME = "all"
PICKER_MONTHS = 12

_DAYS = re.compile(r"[0-9]{1,4}d")


@dataclass(frozen=True)
class ReportPeriod:
    """Days ``start <= day < end`` (UTC); ``start`` None: since the first visit."""

    key: str  # what the picker sends: "30d", "all", "2026-09"
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
    day = on or today()
    tomorrow = day + timedelta(days=1)
    if text in ROLLING:
        label, days = ROLLING[text]
        return ReportPeriod(text, label, tomorrow - timedelta(days=days), tomorrow)
    if text == ALL_TIME:
        return ReportPeriod(text, "All time", None, tomorrow)
    if _DAYS.fullmatch(text):
        raise PeriodError(f"{text!r} is not a period offered; choose one from the list.")
    month = Period.parse(text)
    return ReportPeriod(str(month), month.label, month.first_day, month.end.date())


def picker_choices(chosen: ReportPeriod, *, on: date | None = None) -> list[tuple[str, str]]:
    """(value, label) of the picker: rolling periods, the last months, all time; a month chosen by
    its address that is older than the list is added so the picker shows it."""
    this_month = Period.containing(on or today())
    months = [(str(m), m.label) for m in reversed(this_month.last(PICKER_MONTHS))]
    if (
        chosen.key not in ROLLING
        and chosen.key != ALL_TIME
        and (chosen.key, chosen.label) not in months
    ):
        months.append((chosen.key, chosen.label))
    return [*((key, label) for key, (label, _) in ROLLING.items()), *months, (ALL_TIME, "All time")]


# --- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    source: str  # '' when the link carried none
    campaign: str
    visits: int
    conversions: int
    orders: int
    revenue: Decimal
    converted_visits: int  # of the period, still in shop_referrals (for lifetime value)
    lifetime_total: Decimal

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


def _stat_bounds(shop_id: uuid.UUID, period: ReportPeriod) -> list:
    where = [ReferralDailyStat.shop_id == shop_id, ReferralDailyStat.day < period.end]
    if period.start is not None:
        where.append(ReferralDailyStat.day >= period.start)
    return where


def _converted_bounds(shop_id: uuid.UUID, period: ReportPeriod) -> list:
    # Written as the partial index's predicate, so the planner can use it.
    where = [
        ShopReferral.shop_id == shop_id,
        ShopReferral.converted_at.is_not(None),
        ShopReferral.converted_at < period.end_instant,
    ]
    if period.start is not None:
        where.append(ShopReferral.converted_at >= period.start_instant)
    return where


def _stat_sums():
    return (
        sa.func.coalesce(sa.func.sum(ReferralDailyStat.visits), 0).label("visits"),
        sa.func.coalesce(sa.func.sum(ReferralDailyStat.conversions), 0).label("conversions"),
        sa.func.coalesce(sa.func.sum(ReferralDailyStat.orders), 0).label("orders"),
        sa.func.coalesce(sa.func.sum(ReferralDailyStat.revenue), 0).label("revenue"),
    )


def _lifetime_by_group(shop_id: uuid.UUID, period: ReportPeriod) -> dict[tuple[str, str], tuple]:
    source = sa.func.coalesce(ShopReferral.utm_source, "")
    campaign = sa.func.coalesce(ShopReferral.utm_campaign, "")
    rows = db.session.execute(
        sa.select(source, campaign, sa.func.count(), sa.func.sum(ShopReferral.lifetime_value))
        .where(*_converted_bounds(shop_id, period))
        .group_by(source, campaign)
    )
    return {(s, c): (n, total) for s, c, n, total in rows}


def _group_rows(shop_id: uuid.UUID, period: ReportPeriod, limit: int | None) -> list:
    statement = (
        sa.select(ReferralDailyStat.utm_source, ReferralDailyStat.utm_campaign, *_stat_sums())
        .where(*_stat_bounds(shop_id, period))
        .group_by(ReferralDailyStat.utm_source, ReferralDailyStat.utm_campaign)
        .order_by(sa.desc("visits"), ReferralDailyStat.utm_source, ReferralDailyStat.utm_campaign)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.execute(statement))


def _source_row(source, campaign, visits, conversions, orders, revenue, lifetime) -> SourceRow:
    converted, lifetime_total = lifetime or (0, Decimal("0"))
    return SourceRow(
        source,
        campaign,
        int(visits),
        int(conversions),
        int(orders),
        to_money(revenue),
        int(converted),
        Decimal(lifetime_total or 0),
    )


def _weeks(shop_id: uuid.UUID, period: ReportPeriod) -> list[WeekPoint]:
    week = sa.cast(sa.func.date_trunc("week", ReferralDailyStat.day), sa.Date).label("week")
    found = {
        row.week: row
        for row in db.session.execute(
            sa.select(
                week,
                sa.func.sum(ReferralDailyStat.visits).label("visits"),
                sa.func.sum(ReferralDailyStat.conversions).label("conversions"),
            )
            .where(*_stat_bounds(shop_id, period))
            .group_by(week)
        )
    }
    if not found and period.start is None:
        return []
    first = period.start or min(found)
    monday = first - timedelta(days=first.weekday())
    points = []
    while monday < period.end:
        row = found.get(monday)
        points.append(
            WeekPoint(monday, int(row.visits) if row else 0, int(row.conversions) if row else 0)
        )
        monday += timedelta(days=7)
    return points


def referral_report(shop_id: uuid.UUID, period: ReportPeriod) -> ReferralReport:
    lifetime = _lifetime_by_group(shop_id, period)
    groups = _group_rows(shop_id, period, TABLE_ROWS + 1)
    rows = [_source_row(s, c, v, cv, o, r, lifetime.get((s, c))) for s, c, v, cv, o, r in groups]
    more = len(rows) > TABLE_ROWS
    totals = db.session.execute(
        sa.select(*_stat_sums()).where(*_stat_bounds(shop_id, period))
    ).one()
    converted = sum(n for n, _ in lifetime.values())
    lifetime_total = sum((total for _, total in lifetime.values()), Decimal("0"))
    total = _source_row("", "", *totals, (converted, lifetime_total))
    return ReferralReport(period, rows[:TABLE_ROWS], more, total, _weeks(shop_id, period))


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
    lifetime = _lifetime_by_group(shop_id, period)
    for s, c, v, cv, o, r in _group_rows(shop_id, period, None):
        row = _source_row(s, c, v, cv, o, r, lifetime.get((s, c)))
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
