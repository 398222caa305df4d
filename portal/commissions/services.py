"""Commission and platform-fee rows of sales and refunds, and their settlement.

The money rules (docs/money.md):

* A sale writes one commission record and one platform-fee row, both with ``order_amount`` = the
  merchandise subtotal, and amounts = round half-up (subtotal x rate) with the rates in force at
  payment (``rates.py``).
* A refund writes one reversing pair (negative amounts, the SALE's rates, ``refund_id`` set); the
  sale's rows are never edited, whatever their status.
* Reversals are computed cumulatively, so cents never drift over many partial refunds: what has
  been reversed through a refund is round(sale amount x merchandise refunded so far / subtotal),
  and each refund reverses the difference from the refund before. A full refund reverses exactly
  the sale, and never more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..money import to_money
from ..orders.models import Order
from .models import CommissionRecord, VendorPlatformFee
from .rates import commission_rate_in_force, platform_fee_rate_in_force

ZERO = Decimal("0.00")

# --- pure money arithmetic -----------------------------------------------------------------------


def amount_at_rate(order_amount: Decimal, rate: Decimal) -> Decimal:
    """A commission or fee: half-up to the cent, once, where it is stored."""
    return to_money(order_amount * rate)


def merchandise_refunded(subtotal: Decimal, total: Decimal, refunded_amount: Decimal) -> Decimal:
    """The merchandise share of ``refunded_amount`` of the customer's money, cumulatively.

    Proportional to the order (subtotal / total), rounded half-up; a full refund is exactly the
    subtotal (an order the customer paid nothing for, total 0, included).
    """
    if refunded_amount >= total:
        return subtotal
    return to_money(subtotal * refunded_amount / total)


def reversed_through(
    sale_amount: Decimal, subtotal: Decimal, merchandise_refunded_so_far: Decimal
) -> Decimal:
    """The part of a sale's commission or fee reversed once this much merchandise is refunded."""
    if subtotal == 0 or merchandise_refunded_so_far >= subtotal:
        return sale_amount
    return to_money(sale_amount * merchandise_refunded_so_far / subtotal)


def reversal_amount(
    sale_amount: Decimal, subtotal: Decimal, merchandise_before: Decimal, merchandise_after: Decimal
) -> Decimal:
    """This refund's share of a sale amount (positive; stored negated)."""
    return reversed_through(sale_amount, subtotal, merchandise_after) - reversed_through(
        sale_amount, subtotal, merchandise_before
    )


def vendor_net(order_amount: Decimal, commission_amount: Decimal, fee_amount: Decimal) -> Decimal:
    """What the vendor keeps of a row: the amount less the marketplace's commission and fee."""
    return order_amount - commission_amount - fee_amount


# --- rows ----------------------------------------------------------------------------------------


def sale_commission(order: Order) -> CommissionRecord | None:
    return db.session.scalar(
        sa.select(CommissionRecord).where(
            CommissionRecord.order_id == order.id,
            CommissionRecord.order_created_at == order.created_at,
            CommissionRecord.refund_id.is_(None),
        )
    )


def sale_platform_fee(order: Order) -> VendorPlatformFee | None:
    return db.session.scalar(
        sa.select(VendorPlatformFee).where(
            VendorPlatformFee.order_id == order.id,
            VendorPlatformFee.order_created_at == order.created_at,
            VendorPlatformFee.refund_id.is_(None),
        )
    )


def record_sale(order: Order, at: datetime) -> tuple[CommissionRecord, VendorPlatformFee]:
    """The pending commission record and the platform-fee row of a paid order, at today's rates."""
    commission = commission_rate_in_force(order.vendor_id, order.referral_session, at)
    fee = platform_fee_rate_in_force(order.vendor, at)
    record = CommissionRecord(
        order_id=order.id,
        order_created_at=order.created_at,
        shop_id=order.vendor_id,
        commission_rate=commission.rate,
        order_amount=order.subtotal,
        commission_amount=amount_at_rate(order.subtotal, commission.rate),
        status="pending",
        created_at=at,
    )
    platform_fee = VendorPlatformFee(
        vendor_id=order.vendor_id,
        order_id=order.id,
        order_created_at=order.created_at,
        vendor_type=fee.vendor_type,
        fee_percentage=fee.rate,
        order_amount=order.subtotal,
        fee_amount=amount_at_rate(order.subtotal, fee.rate),
        volume_tier=fee.volume_tier,
        is_promotional_rate=fee.is_promotional,
        created_at=at,
    )
    db.session.add_all([record, platform_fee])
    db.session.flush()
    return record, platform_fee


def record_refund(
    order: Order, refund, merchandise_before: Decimal, merchandise_after: Decimal, at: datetime
) -> tuple[CommissionRecord | None, VendorPlatformFee | None]:
    """The reversing commission and fee rows of one refund, with the sale's rates.

    ``merchandise_before``/``after`` are the order's ``refunded_subtotal`` around this refund. An
    order paid before commissions were recorded has no sale to reverse: nothing is written.
    """
    merchandise = merchandise_after - merchandise_before
    record = fee_row = None
    sale = sale_commission(order)
    if sale is not None:
        reversed_commission = reversal_amount(
            sale.commission_amount, sale.order_amount, merchandise_before, merchandise_after
        )
        record = CommissionRecord(
            order_id=order.id,
            order_created_at=order.created_at,
            shop_id=sale.shop_id,
            commission_rate=sale.commission_rate,
            order_amount=-merchandise,
            commission_amount=-reversed_commission,
            status="pending",
            refund_id=refund.id,
            created_at=at,
        )
        db.session.add(record)
    sale_fee = sale_platform_fee(order)
    if sale_fee is not None:
        reversed_fee = reversal_amount(
            sale_fee.fee_amount, sale_fee.order_amount, merchandise_before, merchandise_after
        )
        fee_row = VendorPlatformFee(
            vendor_id=sale_fee.vendor_id,
            order_id=order.id,
            order_created_at=order.created_at,
            vendor_type=sale_fee.vendor_type,
            fee_percentage=sale_fee.fee_percentage,
            order_amount=-merchandise,
            fee_amount=-reversed_fee,
            volume_tier=sale_fee.volume_tier,
            is_promotional_rate=sale_fee.is_promotional_rate,
            refund_id=refund.id,
            created_at=at,
        )
        db.session.add(fee_row)
    db.session.flush()
    return record, fee_row


# --- settlement ----------------------------------------------------------------------------------


def settle_due_commissions(now: datetime) -> int:
    """Settle the pending commission records of orders that are final; return how many.

    An order is final when it was completed at least ``RETURN_WINDOW_DAYS`` ago (no return can
    come any more), or when it was canceled (a canceled paid order's rows already net to zero).
    Sale rows and reversal rows alike; one set-based UPDATE, so running it again changes nothing.
    ``paid`` is set later by the payout run.
    """
    window_closed_before = now - timedelta(days=current_app.config["RETURN_WINDOW_DAYS"])
    final = sa.or_(
        Order.completed_at <= window_closed_before,
        sa.and_(Order.status == "canceled", Order.canceled_at <= now),
    )
    result = db.session.execute(
        sa.update(CommissionRecord)
        .where(
            CommissionRecord.status == "pending",
            CommissionRecord.order_id == Order.id,
            CommissionRecord.order_created_at == Order.created_at,
            final,
        )
        .values(status="settled", settled_at=now)
        .execution_options(synchronize_session=False)
    )
    _expire_loaded(CommissionRecord, ["status", "settled_at"])
    return result.rowcount


def _expire_loaded(model, attributes: list[str]) -> None:
    """Rows already in the session would keep their old values after a bulk UPDATE."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, model):
            db.session.expire(obj, attributes)
