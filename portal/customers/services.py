"""Customers' profiles."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..orders.models import Order
from .models import Customer


def create_customer_profile(
    user, *, full_name: str, phone: str | None = None, default_address=None
) -> Customer:
    customer = Customer(
        user_id=user.id, full_name=full_name.strip(), phone=phone, default_address=default_address
    )
    db.session.add(customer)
    db.session.flush()
    return customer


def customer_for_user(user) -> Customer | None:
    return db.session.scalar(sa.select(Customer).where(Customer.user_id == user.id))


def recent_orders(customer_id, limit: int = 10):
    """The customer's latest orders, each with its shop (an order is named by its shop's number)."""
    return db.session.scalars(
        sa.select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.vendor))
        .order_by(Order.created_at.desc())
        .limit(limit)
    ).all()
