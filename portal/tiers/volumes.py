"""Monthly sales volumes per vendor, kept current by order intake.

THE RULE (the month-end close rebuilds ``vendor_monthly_volumes`` with exactly this rule in SQL;
intake applies it incrementally, and both must always agree):

For a vendor and a calendar month, over the vendor's orders whose ``created_at`` falls in that
month and whose ``paid_at IS NOT NULL``:

* ``total_sales`` = Σ (``subtotal`` - ``refunded_subtotal``): merchandise only, net of refunds
  (delivery fees and points discounts are not the vendor's sales);
* ``total_orders`` = the number of those orders with ``refunded_subtotal < subtotal`` (an order
  whose merchandise was refunded in full no longer counts);
* ``average_order_value`` = round half-up (``total_sales`` / ``total_orders``, 2), NULL when
  ``total_orders`` is 0;
* ``fee_tier`` = the name of the tier of ``PLATFORM_FEE_SCHEDULES[vendor_type]`` (the ``shop``
  schedule for an unknown type) whose bound ``total_sales`` is below, the last tier otherwise
  (``tiers.rules.fee_tier``, whose SQL form both paths use).

``shop_tiers.monthly_sales`` = the ``total_sales`` of the current calendar month (UTC) for that
vendor, 0 when the month has no row.

Incrementally: payment adds the subtotal and one order; a refund subtracts its merchandise share,
and one order when it refunds the rest of the merchandise. Each change is one
``INSERT ... ON CONFLICT (vendor_id, year, month) DO UPDATE`` that adds to the stored values, so
concurrent orders of one vendor serialize on the row and never lose an update.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from ..clock import utcnow
from ..extensions import db
from ..periods import Period
from .models import ShopTier, VendorMonthlyVolume
from .rules import fee_tier_sql

ZERO = Decimal("0")


def average_order_value_sql(total_sales: sa.ColumnElement, total_orders: sa.ColumnElement):
    # PostgreSQL rounds numeric half away from zero, which is half-up for sales (never negative).
    return sa.case(
        (total_orders > 0, sa.func.round(total_sales / sa.func.nullif(total_orders, 0), 2)),
        else_=sa.null(),
    )


def add_to_volume(
    vendor_id: uuid.UUID, vendor_type: str, period: Period, sales: Decimal, orders: int
) -> None:
    """Add ``sales`` and ``orders`` (either may be negative) to a vendor's month, atomically."""
    table = VendorMonthlyVolume.__table__
    sales_param = sa.cast(sa.literal(sales), sa.Numeric(12, 2))
    orders_param = sa.literal(orders, sa.Integer)
    statement = insert(table).values(
        vendor_id=vendor_id,
        year=period.year,
        month=period.month,
        total_sales=sales_param,
        total_orders=orders_param,
        fee_tier=fee_tier_sql(vendor_type, sales_param),
        average_order_value=average_order_value_sql(sales_param, orders_param),
    )
    new_sales = table.c.total_sales + statement.excluded.total_sales
    new_orders = table.c.total_orders + statement.excluded.total_orders
    statement = statement.on_conflict_do_update(
        constraint="unique_vendor_month",
        set_={
            "total_sales": new_sales,
            "total_orders": new_orders,
            "fee_tier": fee_tier_sql(vendor_type, new_sales),
            "average_order_value": average_order_value_sql(new_sales, new_orders),
        },
    )
    db.session.execute(statement)
    refresh_monthly_sales(vendor_id)


def monthly_sales_sql(period: Period) -> sa.ColumnElement:
    """The rule's ``shop_tiers.monthly_sales``: the shop's ``total_sales`` of ``period``, else 0."""
    volumes = VendorMonthlyVolume.__table__
    period_sales = (
        sa.select(volumes.c.total_sales)
        .where(
            volumes.c.vendor_id == ShopTier.__table__.c.shop_id,
            volumes.c.year == period.year,
            volumes.c.month == period.month,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(period_sales, ZERO)


def refresh_monthly_sales(vendor_id: uuid.UUID, now: datetime | None = None) -> None:
    """``shop_tiers.monthly_sales`` := this calendar month's ``total_sales`` (0 without a row)."""
    now = now or utcnow()
    shop_tiers = ShopTier.__table__
    db.session.execute(
        sa.update(shop_tiers)
        .where(shop_tiers.c.shop_id == vendor_id)
        .values(monthly_sales=monthly_sales_sql(Period.containing(now)), updated_at=now)
    )
    # Objects already loaded would otherwise keep the old value for the rest of the session.
    for shop_tier in [o for o in db.session.identity_map.values() if isinstance(o, ShopTier)]:
        if shop_tier.shop_id == vendor_id:
            db.session.expire(shop_tier, ["monthly_sales", "updated_at"])


def record_paid_order(order) -> None:
    """A payment adds the order's merchandise to the month it was placed in."""
    counts = 1 if order.refunded_subtotal < order.subtotal else 0
    add_to_volume(
        order.vendor_id,
        order.vendor.vendor_type,
        Period.containing(order.created_at),
        order.subtotal - order.refunded_subtotal,
        counts,
    )


def record_refunded_merchandise(
    order, merchandise: Decimal, refunded_subtotal_before: Decimal
) -> None:
    """A refund takes its merchandise share off the month the order was placed in.

    Call after ``order.refunded_subtotal`` has been raised; an order leaves the count when its
    merchandise is now refunded in full and was not before.
    """
    if order.paid_at is None:
        return
    left_the_count = refunded_subtotal_before < order.subtotal <= order.refunded_subtotal
    if merchandise == 0 and not left_the_count:
        return
    add_to_volume(
        order.vendor_id,
        order.vendor.vendor_type,
        Period.containing(order.created_at),
        -merchandise,
        -1 if left_the_count else 0,
    )
