"""The tier and fee rules of the configuration, as SQL fragments for the set-based close.

Each helper returns ``(sql, params)``: the fragment uses bind parameters only, so configured values
never end up in SQL text. The Python versions of the same rules live with their callers
(``commissions.rates.fee_tier_for_sales``, ``tiers.dashboard.tier_progress``); the close's tests
pin the boundaries both must agree on.
"""

from __future__ import annotations

from flask import current_app

from .models import SHOP_TIERS

#: The tier every shop earns without sales (the lowest one).
BASE_TIER = SHOP_TIERS[0]


def tier_rank(tier: str) -> int:
    """0 for bronze, upwards; a better tier has a higher rank."""
    return SHOP_TIERS.index(tier)


def tier_rank_sql(column: str) -> str:
    """SQL for a tier column's rank, as :func:`tier_rank` (SHOP_TIERS is schema, not config)."""
    tiers = ", ".join(f"'{tier}'" for tier in SHOP_TIERS)
    return f"array_position(ARRAY[{tiers}]::varchar[], {column}::varchar) - 1"


def tier_rates_values() -> tuple[str, dict]:
    """``(VALUES ...) AS tier_rates(tier, rate)``: the commission rate of each tier."""
    rates = current_app.config["TIER_COMMISSION_RATES"]
    rows, params = [], {}
    for index, tier in enumerate(SHOP_TIERS):
        rows.append(f"(CAST(:rate_tier_{index} AS varchar), CAST(:rate_{index} AS numeric))")
        params[f"rate_tier_{index}"] = tier
        params[f"rate_{index}"] = rates[tier]
    return f"(VALUES {', '.join(rows)}) AS tier_rates(tier, rate)", params


def earned_tier_case(sales_sql: str) -> tuple[str, dict]:
    """``CASE`` giving the tier a month's sales earn: the best tier whose threshold they reach."""
    thresholds = current_app.config["TIER_SALES_THRESHOLDS"]
    branches, params = [], {}
    for tier in sorted(thresholds, key=tier_rank, reverse=True):
        branches.append(f"WHEN {sales_sql} >= :threshold_{tier} THEN '{tier}'")
        params[f"threshold_{tier}"] = thresholds[tier]
    return f"(CASE {' '.join(branches)} ELSE '{BASE_TIER}' END)", params


def fee_schedule_values() -> tuple[str, dict]:
    """``(VALUES ...) AS fee_schedule(vendor_type, position, tier_name, below)`` from the config.

    ``below`` is the exclusive upper bound of the tier's sales, NULL for the open-ended last tier.
    """
    schedules = current_app.config["PLATFORM_FEE_SCHEDULES"]
    rows, params = [], {}
    for type_index, (vendor_type, schedule) in enumerate(schedules.items()):
        for position, (tier_name, below, _rate) in enumerate(schedule):
            key = f"{type_index}_{position}"
            rows.append(
                f"(CAST(:fee_type_{key} AS varchar), {position}, "
                f"CAST(:fee_tier_{key} AS varchar), CAST(:fee_below_{key} AS numeric))"
            )
            params |= {
                f"fee_type_{key}": vendor_type,
                f"fee_tier_{key}": tier_name,
                f"fee_below_{key}": below,
            }
    params["fee_fallback_type"] = current_app.config["FALLBACK_VENDOR_TYPE"]
    sql = f"(VALUES {', '.join(rows)}) AS fee_schedule(vendor_type, position, tier_name, below)"
    return sql, params


def fee_tier_sql(vendor_type_sql: str, sales_sql: str) -> str:
    """A scalar subquery: the fee tier ``sales_sql`` falls in, for ``vendor_type_sql``.

    Needs a CTE ``fee_schedule`` built from :func:`fee_schedule_values` (and its params).
    """
    return f"""(
        SELECT f.tier_name FROM fee_schedule f
        WHERE f.vendor_type = COALESCE(
                (SELECT k.vendor_type FROM fee_schedule k WHERE k.vendor_type = {vendor_type_sql}
                 LIMIT 1),
                :fee_fallback_type)
          AND (f.below IS NULL OR {sales_sql} < f.below)
        ORDER BY f.position
        LIMIT 1
    )"""
