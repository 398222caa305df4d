"""The tier rules, each defined once: shop tiers (commission) and volume tiers (platform fee).

Every rule that is also needed in SQL (the month-end close, incremental volumes, promotion expiry)
is a :class:`StepRule`: one list of steps that answers for a Python value and builds the SQLAlchemy
expression for a column, so the two forms cannot drift apart. Configured values travel as bind
parameters, never in SQL text. All numbers come from the app config (``TIER_SALES_THRESHOLDS``,
``TIER_COMMISSION_RATES``, ``PLATFORM_FEE_SCHEDULES``, ``FALLBACK_VENDOR_TYPE``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from .models import SHOP_TIERS

#: The tier every shop starts at and earns without sales (the lowest one).
BASE_TIER = SHOP_TIERS[0]

# (tier name, sales below which the tier applies or None for the last, rate)
FeeSchedule = tuple[tuple[str, Decimal | None, Decimal], ...]


@dataclass(frozen=True)
class StepRule:
    """The result of the first step whose test passes, ``otherwise`` when none does.

    A step is ``(test, bound, result)`` with ``test`` an operator (``operator.ge``...): applied to
    a number it answers in Python, applied to a column it builds the SQL ``CASE``.
    """

    steps: tuple[tuple[Callable[[Any, Any], Any], Decimal, str], ...]
    otherwise: str

    def __call__(self, value: Decimal) -> str:
        for test, bound, result in self.steps:
            if test(value, bound):
                return result
        return self.otherwise

    def sql(self, value: sa.ColumnElement) -> sa.ColumnElement:
        if not self.steps:
            return sa.literal(self.otherwise)
        return sa.case(
            *[(test(value, bound), result) for test, bound, result in self.steps],
            else_=sa.literal(self.otherwise),
        )


# --- shop tiers ----------------------------------------------------------------------------------


def tier_rank(tier: str) -> int:
    """0 for the base tier, upwards; a better tier has a higher rank."""
    return SHOP_TIERS.index(tier)


def tier_rank_sql(tier: sa.ColumnElement) -> sa.ColumnElement:
    """:func:`tier_rank` of a tier column (SHOP_TIERS is schema, not config)."""
    return sa.case({name: rank for rank, name in enumerate(SHOP_TIERS)}, value=tier)


def tier_rate(tier: str) -> Decimal:
    """The commission rate a shop at ``tier`` pays."""
    return current_app.config["TIER_COMMISSION_RATES"][tier]


def tier_rate_sql(tier: sa.ColumnElement) -> sa.ColumnElement:
    """:func:`tier_rate` of a tier column."""
    rates = current_app.config["TIER_COMMISSION_RATES"]
    return sa.case(
        {name: sa.cast(sa.literal(rates[name]), sa.Numeric(5, 4)) for name in SHOP_TIERS},
        value=tier,
    )


def earned_tier_rule() -> StepRule:
    """The tier a month's sales earn: the best tier whose threshold they reach."""
    thresholds = current_app.config["TIER_SALES_THRESHOLDS"]
    best_first = sorted(thresholds, key=tier_rank, reverse=True)
    return StepRule(tuple((operator.ge, thresholds[tier], tier) for tier in best_first), BASE_TIER)


def earned_tier(sales: Decimal) -> str:
    return earned_tier_rule()(sales)


def next_tier(tier: str) -> str | None:
    """The tier above ``tier``; None at the top."""
    rank = tier_rank(tier)
    return SHOP_TIERS[rank + 1] if rank + 1 < len(SHOP_TIERS) else None


def tier_threshold(tier: str) -> Decimal:
    """The month's sales that earn ``tier`` (0 for the base tier)."""
    return current_app.config["TIER_SALES_THRESHOLDS"].get(tier, Decimal("0"))


# --- volume tiers (the platform fee) -------------------------------------------------------------


def fee_schedule(vendor_type: str) -> FeeSchedule:
    """The vendor type's schedule; an unknown type pays the fallback type's (``shop``)."""
    schedules = current_app.config["PLATFORM_FEE_SCHEDULES"]
    return schedules.get(vendor_type) or schedules[current_app.config["FALLBACK_VENDOR_TYPE"]]


def fee_tier_rule(vendor_type: str) -> StepRule:
    """The fee tier a month's sales fall in: the first tier whose bound the sales are below."""
    schedule = fee_schedule(vendor_type)
    steps = tuple(
        (operator.lt, below, name) for name, below, _rate in schedule if below is not None
    )
    return StepRule(steps, schedule[-1][0])


def fee_tier(vendor_type: str, sales: Decimal) -> str:
    return fee_tier_rule(vendor_type)(sales)


def fee_tier_sql(vendor_type: str | sa.ColumnElement, sales: sa.ColumnElement) -> sa.ColumnElement:
    """:func:`fee_tier` in SQL, for one vendor type or for a vendor-type column.

    For a column, a ``CASE`` over the configured types; any other type gets the fallback's tiers.
    """
    if isinstance(vendor_type, str):
        return fee_tier_rule(vendor_type).sql(sales)
    fallback = current_app.config["FALLBACK_VENDOR_TYPE"]
    by_type = [
        (vendor_type == name, fee_tier_rule(name).sql(sales))
        for name in current_app.config["PLATFORM_FEE_SCHEDULES"]
        if name != fallback
    ]
    fallback_tier = fee_tier_rule(fallback).sql(sales)
    return sa.case(*by_type, else_=fallback_tier) if by_type else fallback_tier


def first_fee_tier(vendor_type: str) -> str:
    """The tier of a vendor without a previous month's volume."""
    return fee_schedule(vendor_type)[0][0]


def fee_rate(vendor_type: str, tier_name: str) -> Decimal:
    """The platform fee rate of a tier of the vendor type's schedule."""
    for name, _below, rate in fee_schedule(vendor_type):
        if name == tier_name:
            return rate
    # A tier name from an older schedule: the first tier's rate, as for a vendor without history.
    return fee_schedule(vendor_type)[0][2]
