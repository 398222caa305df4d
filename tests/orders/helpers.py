"""Building order events and reading back their money effects, for intake and invariant tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.commissions.models import CommissionRecord, VendorPlatformFee
from portal.extensions import db
from portal.money import to_money
from portal.orders.intake import (
    IncomingEvent,
    IncomingOrder,
    IncomingRefund,
    apply_order_event,
)
from portal.orders.models import Order
from portal.orders.services import LineItem, RefundItem
from portal.tiers.models import VendorMonthlyVolume
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor

SOURCE = "webhook"
_ids = itertools.count(1)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def established_shop(vendor_type: str = "shop", *, age_days: int = 365):
    """A shop past its new-vendor promotion (fees at the schedule's rate)."""
    vendor = vendor_for_user(make_vendor(vendor_type=vendor_type))
    vendor.created_at = now() - timedelta(days=age_days)
    db.session.flush()
    return vendor


def placed(
    vendor,
    *,
    external_id: str | None = None,
    items: list[tuple[str, int]] | None = None,
    delivery_fee: str = "5.00",
    points_discount: str = "0.00",
    email: str = "buyer@example.com",
    referral_session: str | None = None,
    at: datetime | None = None,
    event_id: str | None = None,
    subtotal: str | None = None,
    total: str | None = None,
    order_number: str | None = None,
    customer_name: str = "Bea Buyer",
    driver_tip: Decimal = Decimal("0"),
) -> IncomingEvent:
    """An ``order.placed`` event; ``items`` are (unit price, quantity)."""
    items = items or [("20.00", 2), ("9.99", 1)]
    lines = tuple(
        LineItem(title=f"Item {n}", quantity=qty, unit_price=Decimal(price), sku=f"SKU-{n}")
        for n, (price, qty) in enumerate(items)
    )
    computed = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    subtotal_amount = Decimal(subtotal) if subtotal else computed
    total_amount = (
        Decimal(total)
        if total
        else subtotal_amount + Decimal(delivery_fee) - Decimal(points_discount)
    )
    external_id = external_id or f"ext-{next(_ids)}"
    return IncomingEvent(
        source=SOURCE,
        event_id=event_id or f"evt-{next(_ids)}",
        type="order.placed",
        occurred_at=at or now(),
        external_id=external_id,
        order=IncomingOrder(
            external_id=external_id,
            vendor_id=vendor.id,
            checkout_id=uuid.uuid4(),
            customer_email=email,
            customer_name=customer_name,
            currency="USD",
            items=lines,
            subtotal=to_money(subtotal_amount),
            delivery_fee=Decimal(delivery_fee),
            points_discount=Decimal(points_discount),
            total=to_money(total_amount),
            referral_session=referral_session,
            dropoff_address={"line1": "1 Main St", "city": "Portland"},
            order_number=order_number,
            driver_tip=driver_tip,
        ),
    )


def follow_up(
    external_id: str, event_type: str, *, at: datetime | None = None, event_id: str | None = None
) -> IncomingEvent:
    return IncomingEvent(
        source=SOURCE,
        event_id=event_id or f"evt-{next(_ids)}",
        type=event_type,
        occurred_at=at or now(),
        external_id=external_id,
    )


def refunded(
    external_id: str,
    amount: str,
    refund_id: str | None = None,
    *,
    at: datetime | None = None,
    event_id: str | None = None,
    items: list[tuple[str, int]] | None = None,
    delivery_amount: str | None = None,
) -> IncomingEvent:
    """An ``order.refunded`` event; ``items`` are (SKU, quantity) of the lines it names."""
    return IncomingEvent(
        source=SOURCE,
        event_id=event_id or f"evt-{next(_ids)}",
        type="order.refunded",
        occurred_at=at or now(),
        external_id=external_id,
        refund=IncomingRefund(
            refund_id=refund_id or f"re-{next(_ids)}",
            amount=Decimal(amount),
            items=tuple(RefundItem(quantity=qty, sku=sku) for sku, qty in items or ()),
            delivery_amount=Decimal(delivery_amount) if delivery_amount is not None else None,
        ),
    )


def paid_order(vendor, *, at: datetime | None = None, **placed_args) -> Order:
    """An order placed and paid through intake."""
    event = placed(vendor, at=at, **placed_args)
    apply_order_event(event)
    return apply_order_event(follow_up(event.external_id, "order.paid", at=at)).order


def commission_rows(order) -> list[CommissionRecord]:
    return list(
        db.session.scalars(
            sa.select(CommissionRecord)
            .where(CommissionRecord.order_id == order.id)
            .order_by(CommissionRecord.created_at, CommissionRecord.refund_id.nulls_first())
            .execution_options(populate_existing=True)
        )
    )


def fee_rows(order) -> list[VendorPlatformFee]:
    return list(
        db.session.scalars(
            sa.select(VendorPlatformFee)
            .where(VendorPlatformFee.order_id == order.id)
            .order_by(VendorPlatformFee.created_at, VendorPlatformFee.refund_id.nulls_first())
            .execution_options(populate_existing=True)
        )
    )


def money_sums(order) -> dict[str, Decimal]:
    """Σ of the order's commission and fee rows, and Σ vendor net."""
    commissions, fees = commission_rows(order), fee_rows(order)
    order_amount = sum((row.order_amount for row in commissions), Decimal("0"))
    commission = sum((row.commission_amount for row in commissions), Decimal("0"))
    fee = sum((row.fee_amount for row in fees), Decimal("0"))
    fee_order_amount = sum((row.order_amount for row in fees), Decimal("0"))
    return {
        "order_amount": order_amount,
        "fee_order_amount": fee_order_amount,
        "commission": commission,
        "fee": fee,
        "net": order_amount - commission - fee,
    }


def volume_by_rule(vendor, year: int, month: int) -> dict:
    """THE volume rule (portal/tiers/volumes.py), computed from the orders, for comparison."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    orders = db.session.scalars(
        sa.select(Order)
        .where(
            Order.vendor_id == vendor.id,
            Order.created_at >= start,
            Order.created_at < end,
            Order.paid_at.is_not(None),
        )
        .execution_options(populate_existing=True)
    ).all()
    total_sales = sum((o.subtotal - o.refunded_subtotal for o in orders), Decimal("0.00"))
    total_orders = sum(1 for o in orders if o.refunded_subtotal < o.subtotal)
    average = to_money(total_sales / total_orders) if total_orders else None
    return {
        "total_sales": total_sales,
        "total_orders": total_orders,
        "average_order_value": average,
    }


def stored_volume(vendor, year: int, month: int) -> dict | None:
    row = db.session.scalar(
        sa.select(VendorMonthlyVolume)
        .where(
            VendorMonthlyVolume.vendor_id == vendor.id,
            VendorMonthlyVolume.year == year,
            VendorMonthlyVolume.month == month,
        )
        .execution_options(populate_existing=True)
    )
    if row is None:
        return None
    return {
        "total_sales": row.total_sales,
        "total_orders": row.total_orders,
        "average_order_value": row.average_order_value,
        "fee_tier": row.fee_tier,
    }
