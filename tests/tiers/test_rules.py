"""Each tier rule has one definition: its Python and SQL forms give the same answers.

Expected values are written out from the configured thresholds, not computed by the rule.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.tiers import rules

pytestmark = pytest.mark.usefixtures("db_session")

# Bounds that differ by vendor type, so a CASE that picked the wrong type's schedule would show.
SCHEDULES = {
    "shop": (
        ("standard", Decimal("10000"), Decimal("0.0290")),
        ("growth", Decimal("50000"), Decimal("0.0250")),
        ("scale", None, Decimal("0.0220")),
    ),
    "restaurant": (
        ("small", Decimal("2000"), Decimal("0.0320")),
        ("large", None, Decimal("0.0290")),
    ),
    "grocery": (("flat", None, Decimal("0.0190")),),
}


def in_sql(expression: sa.ColumnElement):
    return db.session.scalar(sa.select(expression))


def sales(amount: str) -> sa.ColumnElement:
    return sa.cast(sa.literal(Decimal(amount)), sa.Numeric(12, 2))


@pytest.fixture
def schedules(app, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_FEE_SCHEDULES", SCHEDULES)


@pytest.mark.parametrize(
    ("vendor_type", "amount", "tier"),
    [
        ("shop", "0.00", "standard"),
        ("shop", "9999.99", "standard"),
        ("shop", "10000.00", "growth"),  # bounds are exclusive
        ("shop", "50000.00", "scale"),
        ("restaurant", "1999.99", "small"),
        ("restaurant", "2000.00", "large"),
        ("restaurant", "60000.00", "large"),
        ("grocery", "0.00", "flat"),
        ("grocery", "99999.00", "flat"),
        ("florist", "1999.99", "standard"),  # an unknown type pays the shop schedule
        ("florist", "10000.00", "growth"),
    ],
)
def test_the_fee_tier_in_python_and_in_sql(schedules, vendor_type, amount, tier):
    assert rules.fee_tier(vendor_type, Decimal(amount)) == tier
    assert in_sql(rules.fee_tier_sql(vendor_type, sales(amount))) == tier
    # The form the close uses, with the vendor type as a column.
    vendor_type_column = sa.cast(sa.literal(vendor_type), sa.String)
    assert in_sql(rules.fee_tier_sql(vendor_type_column, sales(amount))) == tier


@pytest.mark.parametrize(
    ("amount", "tier"),
    [
        ("0.00", "bronze"),
        ("4999.99", "bronze"),
        ("5000.00", "silver"),  # thresholds are inclusive (defaults: silver 5,000, gold 20,000)
        ("19999.99", "silver"),
        ("20000.00", "gold"),
        ("1000000.00", "gold"),
    ],
)
def test_the_earned_tier_in_python_and_in_sql(amount, tier):
    assert rules.earned_tier(Decimal(amount)) == tier
    assert in_sql(rules.earned_tier_rule().sql(sales(amount))) == tier


@pytest.mark.parametrize(
    ("tier", "rank", "rate"),
    [
        ("bronze", 0, Decimal("0.1500")),
        ("silver", 1, Decimal("0.1200")),
        ("gold", 2, Decimal("0.1000")),
    ],
)
def test_rank_and_rate_of_a_tier_in_python_and_in_sql(tier, rank, rate):
    column = sa.cast(sa.literal(tier), sa.String)
    assert (rules.tier_rank(tier), in_sql(rules.tier_rank_sql(column))) == (rank, rank)
    assert (rules.tier_rate(tier), in_sql(rules.tier_rate_sql(column))) == (rate, rate)


def test_next_tier_and_thresholds():
    assert [rules.next_tier(t) for t in ("bronze", "silver", "gold")] == ["silver", "gold", None]
    assert rules.tier_threshold("bronze") == 0
    assert rules.tier_threshold("gold") == Decimal("20000")
    assert rules.BASE_TIER == "bronze"
