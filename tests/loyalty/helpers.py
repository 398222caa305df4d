"""Customers, orders and ledger read-backs for the points tests, through the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.customers.services import customer_for_user
from portal.extensions import db
from portal.loyalty import points
from portal.loyalty.models import PointsBalance, PointsTransaction
from portal.orders import services as orders
from portal.orders.services import LineItem
from tests.factories import make_admin, make_customer
from tests.orders.helpers import established_shop

D = Decimal


def moment(days: float = 0) -> datetime:
    """A fixed starting point (in this year's partition) plus ``days``."""
    base = datetime.now(UTC).replace(month=1, day=2, hour=12, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days)


def customer():
    return customer_for_user(make_customer())


def admin():
    return make_admin()


def shop():
    return established_shop()


def place(
    vendor,
    buyer,
    *,
    price: str = "50.00",
    quantity: int = 1,
    discount: str = "0.00",
    with_points: bool = False,
    hold: str | None = None,
    at: datetime | None = None,
):
    return orders.place_order(
        vendor_id=vendor.id,
        customer_id=buyer.id,
        items=[LineItem(title="Thing", quantity=quantity, unit_price=D(price), sku="T-1")],
        points_discount=D(discount),
        pay_with_points=with_points,
        points_hold=hold,
        placed_at=at or moment(),
    )


def pay(order, at: datetime | None = None):
    return orders.mark_paid(order, at or order.created_at + timedelta(minutes=1))


def give(buyer, amount: int, at: datetime | None = None):
    """Spendable points from an admin's goodwill adjustment."""
    return points.adjust(buyer.id, amount, "test credit", actor=admin(), at=at or moment(-1))


def ledger_sum(buyer) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsTransaction.amount), 0)).where(
            PointsTransaction.customer_id == buyer.id
        )
    )


def rows(buyer, type_: str | None = None) -> list[PointsTransaction]:
    query = sa.select(PointsTransaction).where(PointsTransaction.customer_id == buyer.id)
    if type_:
        query = query.where(PointsTransaction.type == type_)
    return list(db.session.scalars(query.order_by(PointsTransaction.created_at)))


def balance(buyer) -> PointsBalance:
    db.session.expire_all()
    return db.session.scalar(sa.select(PointsBalance).where(PointsBalance.customer_id == buyer.id))


def assert_ledger_consistent(buyer) -> None:
    """The balance row is the ledger's running total and every row chains."""
    row = balance(buyer)
    assert row.current_balance == ledger_sum(buyer)
    for entry in rows(buyer):
        assert entry.balance_after == entry.balance_before + entry.amount
        assert entry.balance_after >= 0
