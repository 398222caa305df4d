"""History pages read the archive for the periods retention moved out of the live tables.

* A customer's archived orders (``archived_orders``): the order itself is kept whole; its lines,
  deliveries and refunds are in ``archived_order_rows`` and not shown.
* A shop's commission months older than a year (``commission_summaries``): the month's total and
  order count; the statement has no rows for them any more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..commissions.models import CommissionSummary
from ..extensions import db
from ..periods import Period
from ..vendors.models import Vendor
from .models import ArchivedOrder
from .retiring import first_kept_month


@dataclass(frozen=True)
class ArchivedOrderLine:
    number: int
    shop: str
    created_at: datetime
    status: str
    total: Decimal


def archived_before() -> Period:
    """Orders placed before this month may have moved to the archive."""
    return first_kept_month(current_app.config["ORDER_RETENTION_MONTHS"])


def customer_archived_orders(customer_id: uuid.UUID, limit: int = 50) -> list[ArchivedOrderLine]:
    """The customer's archived orders, newest first (``idx_archived_orders_customer_date``)."""
    rows = db.session.execute(
        sa.select(
            ArchivedOrder.number,
            Vendor.name,
            ArchivedOrder.created_at,
            ArchivedOrder.status,
            ArchivedOrder.total,
        )
        .join(Vendor, Vendor.id == ArchivedOrder.vendor_id)
        .where(ArchivedOrder.customer_id == customer_id)
        .order_by(ArchivedOrder.created_at.desc())
        .limit(limit)
    ).all()
    return [ArchivedOrderLine(*row) for row in rows]


def summarised_months(vendor_id: uuid.UUID) -> list[CommissionSummary]:
    """The shop's commission months aggregated by retention, newest first."""
    return db.session.scalars(
        sa.select(CommissionSummary)
        .where(CommissionSummary.shop_id == vendor_id)
        .order_by(CommissionSummary.year.desc(), CommissionSummary.month.desc())
    ).all()
