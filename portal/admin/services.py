"""What the operator sees at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..customers.models import Customer
from ..deliveries.models import Driver
from ..extensions import db
from ..orders.models import Order
from ..vendors.models import Vendor


@dataclass(frozen=True)
class PlatformOverview:
    vendors: int
    customers: int
    drivers: int
    drivers_awaiting_verification: int
    orders_this_month: int


def platform_overview(today: date) -> PlatformOverview:
    month_start = today.replace(day=1)
    count = lambda stmt: db.session.scalar(stmt) or 0  # noqa: E731
    return PlatformOverview(
        vendors=count(sa.select(sa.func.count()).select_from(Vendor)),
        customers=count(sa.select(sa.func.count()).select_from(Customer)),
        drivers=count(sa.select(sa.func.count()).select_from(Driver)),
        drivers_awaiting_verification=count(
            sa.select(sa.func.count())
            .select_from(Driver)
            .where(
                sa.or_(
                    Driver.insurance_verified.is_not(True),
                    Driver.background_check_status != "approved",
                )
            )
        ),
        # Bounded on the partition key so only this month's partition is read.
        orders_this_month=count(
            sa.select(sa.func.count()).select_from(Order).where(Order.created_at >= month_start)
        ),
    )
