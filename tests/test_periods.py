"""The one month type: arithmetic across year ends, bounds, parsing and labels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from portal.periods import Period, PeriodError


def test_the_month_containing_a_moment_or_a_day():
    assert Period.containing(datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)) == Period(2026, 9)
    assert Period.containing(date(2026, 10, 1)) == Period(2026, 10)


def test_an_aware_moment_is_taken_in_utc():
    # 20:00 on 31 October in Portland (UTC-7) is already November in UTC.
    portland = timezone(timedelta(hours=-7))
    assert Period.containing(datetime(2026, 10, 31, 20, 0, tzinfo=portland)) == Period(2026, 11)
    assert Period.containing(datetime(2026, 10, 31, 20, 0, tzinfo=UTC)) == Period(2026, 10)


@pytest.mark.parametrize(
    ("period", "months", "expected"),
    [
        (Period(2026, 12), 1, Period(2027, 1)),
        (Period(2027, 1), -1, Period(2026, 12)),
        (Period(2026, 3), -15, Period(2024, 12)),
        (Period(2026, 3), 0, Period(2026, 3)),
        (Period(2026, 11), 14, Period(2028, 1)),
    ],
)
def test_shifting_crosses_year_ends(period, months, expected):
    assert period.shift(months) == expected


def test_next_previous_and_the_last_months():
    assert Period(2026, 1).previous() == Period(2025, 12)
    assert Period(2025, 12).next() == Period(2026, 1)
    assert Period(2026, 2).last(3) == [Period(2025, 12), Period(2026, 1), Period(2026, 2)]


def test_bounds_are_the_half_open_month():
    december = Period(2026, 12)
    assert december.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Period(2028, 2).end - Period(2028, 2).start == timedelta(days=29)  # a leap year
    assert Period.containing(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)) == december
    assert Period.containing(december.end) == Period(2027, 1)


def test_periods_order_like_time():
    assert Period(2025, 12) < Period(2026, 1) < Period(2026, 2)
    assert max(Period(2026, 1), Period(2025, 12)) == Period(2026, 1)


@pytest.mark.parametrize(
    ("text", "expected"), [("2026-09", Period(2026, 9)), (" 2026-10 ", Period(2026, 10))]
)
def test_parse(text, expected):
    assert Period.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "use YYYY-MM"),
        ("   ", "use YYYY-MM"),
        ("2026-9", "use YYYY-MM"),
        ("2026/09", "use YYYY-MM"),
        ("2026-13", "not a month"),
        ("2026-00", "not a month"),
        ("0000-05", "out of range"),
        ("9999-12", "out of range"),
        ("\uff12\uff10\uff12\uff16-\uff10\uff19", "use YYYY-MM"),  # full-width digits
    ],
)
def test_parse_refuses_what_is_not_a_month_with_a_reason(text, reason):
    with pytest.raises(PeriodError, match=reason):
        Period.parse(text)


def test_the_last_month_still_has_an_end():
    assert Period(9998, 12).end == datetime(9999, 1, 1, tzinfo=UTC)
    with pytest.raises(PeriodError):
        Period(9998, 12).next()


def test_text_forms():
    assert str(Period(2026, 9)) == "2026-09"
    assert Period(2026, 9).label == "Sep 2026"
    assert Period(2027, 1).label == "Jan 2027"
