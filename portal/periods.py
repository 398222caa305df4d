"""Calendar months, the one type every module does month arithmetic with.

Money months are UTC months (docs/money.md): an order belongs to the month its ``created_at``
falls in, in UTC. A :class:`Period` is that month as the half-open range of instants
``[start, end)``, bounded on the partition key wherever a month's rows are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

# ASCII digits only: ``\d`` would take any script's digits.
_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")

_MONTH_ABBREVIATIONS = "JanFebMarAprMayJunJulAugSepOctNovDec"

#: The months a Period can be: the last one still has a following month Python can represent.
FIRST_YEAR, LAST_YEAR = 1, 9998


class PeriodError(ValueError):
    """Text or numbers that are not a month we can work with (the message says why)."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month in UTC; ordered, hashable, ``str()`` is ``"2026-09"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise PeriodError(
                f"{self.year:04d}-{self.month:02d} is not a month; use YYYY-MM, "
                "with a month from 01 to 12."
            )
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise PeriodError(
                f"{self.year:04d}-{self.month:02d} is out of range: "
                f"use a month from {FIRST_YEAR:04d}-01 to {LAST_YEAR:04d}-12."
            )

    # --- making one ------------------------------------------------------------------------------

    @classmethod
    def containing(cls, moment: datetime | date) -> Period:
        """The month a moment (or a day) falls in; an aware moment is taken in UTC."""
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"2026-09"`` (surrounding spaces allowed); :class:`PeriodError` for anything else."""
        match = _ISO_MONTH.fullmatch((text or "").strip())
        if not match:
            raise PeriodError(f"{text!r} is not a month; use YYYY-MM, e.g. 2026-10.")
        return cls(int(match.group(1)), int(match.group(2)))

    # --- moving ----------------------------------------------------------------------------------

    def shift(self, months: int) -> Period:
        """The month ``months`` after this one (before it, for a negative number)."""
        year, month0 = divmod(self.year * 12 + self.month - 1 + months, 12)
        return Period(year, month0 + 1)

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        return self.shift(-1)

    def last(self, count: int) -> list[Period]:
        """The ``count`` months ending with this one, oldest first."""
        return [self.shift(offset) for offset in range(1 - count, 1)]

    # --- bounds ----------------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        """The month's first instant (aware UTC)."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next month's first instant: the month is ``start <= t < end``."""
        # Not ``self.next().start``: the month after LAST_YEAR-12 is no Period, but it has a start.
        return datetime(self.year + self.month // 12, self.month % 12 + 1, 1, tzinfo=UTC)

    # --- text ------------------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """How pages name the month: ``"Sep 2026"`` (English whatever the host's locale)."""
        return f"{_MONTH_ABBREVIATIONS[3 * self.month - 3 : 3 * self.month]} {self.year}"
