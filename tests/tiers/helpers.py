"""Helpers for the tier tests: shops, orders with known amounts, volumes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.orders import numbers
from portal.orders.models import Order
from portal.tiers.models import ShopTier, VendorMonthlyVolume
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor

# The close of October 2026, early on the 1st of November.
OCTOBER = (2026, 10)
CLOSE_TIME = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def shop(vendor_type: str = "shop", name: str = "Corner Shop"):
    """A new shop (vendor) at bronze."""
    user = make_vendor(shop_name=name, vendor_type=vendor_type)
    db.session.flush()
    return vendor_for_user(user)


def add_order(
    vendor,
    subtotal: str,
    *,
    created_at: datetime = datetime(2026, 10, 15, 12, 0, tzinfo=UTC),
    paid: bool = True,
    refunded: str = "0",
) -> None:
    """An order with known amounts, written directly (intake's side effects are not under test)."""
    subtotal_amount, refunded_amount = Decimal(subtotal), Decimal(refunded)
    if not paid:
        status = "pending"
    elif refunded_amount == subtotal_amount and refunded_amount > 0:
        status = "refunded"
    elif refunded_amount:
        status = "partially_refunded"
    else:
        status = "completed"
    db.session.execute(
        sa.insert(Order).values(
            checkout_id=uuid.uuid4(),
            vendor_id=vendor.id,
            number=numbers.next_number(vendor.id),
            status=status,
            subtotal=subtotal_amount,
            total=subtotal_amount,
            refunded_amount=refunded_amount,
            refunded_subtotal=refunded_amount,
            paid_at=created_at + timedelta(minutes=5) if paid else None,
            created_at=created_at,
        )
    )


def set_volume(vendor, year: int, month: int, total_sales: str, total_orders: int = 1) -> None:
    db.session.add(
        VendorMonthlyVolume(
            vendor_id=vendor.id,
            year=year,
            month=month,
            total_sales=Decimal(total_sales),
            total_orders=total_orders,
            fee_tier="standard",
        )
    )
    db.session.flush()


def tier_of(vendor) -> ShopTier:
    return db.session.scalars(
        sa.select(ShopTier)
        .where(ShopTier.shop_id == vendor.id)
        .execution_options(populate_existing=True)
    ).one()


def volume_of(vendor, year: int = 2026, month: int = 10) -> VendorMonthlyVolume | None:
    return db.session.scalars(
        sa.select(VendorMonthlyVolume)
        .where(
            VendorMonthlyVolume.vendor_id == vendor.id,
            VendorMonthlyVolume.year == year,
            VendorMonthlyVolume.month == month,
        )
        .execution_options(populate_existing=True)
    ).one_or_none()
