"""Commission and platform-fee rows of sales and refunds, and their settlement.

The money rules (docs/money.md):

* A sale writes one commission record and one platform-fee row, both with ``order_amount`` = the
  merchandise subtotal, and amounts = round half-up (subtotal x rate) with the rates in force at
  payment (``rates.py``).
* A refund writes one reversing pair (negative amounts, the SALE's rates, ``refund_id`` set); the
  sale's rows are never edited, whatever their status.
* Reversals are computed cumulatively, so cents never drift over many partial refunds: what is
  left after a refund is round(sale amount x merchandise left / subtotal), and each refund
  reverses the difference from the refund before. A full refund reverses exactly
  the sale, and never more. (What a refund's merchandise share is: ``orders/refund_rule.py``.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..money import to_money
from ..orders import completion
from ..orders.models import Order
from .models import CommissionRecord, VendorPlatformFee
from .rates import CommissionRate, commission_rate_in_force, platform_fee_rate_in_force

ZERO = Decimal("0.00")

# --- pure money arithmetic -----------------------------------------------------------------------


def amount_at_rate(order_amount: Decimal, rate: Decimal) -> Decimal:
    """A commission or fee: half-up to the cent, once, where it is stored."""
    return to_money(order_amount * rate)


def left_after(
    sale_amount: Decimal, subtotal: Decimal, merchandise_refunded_so_far: Decimal
) -> Decimal:
    """What is left of a sale's commission or fee once this much merchandise is refunded:
    round half-up (sale amount x merchandise left / subtotal); nothing once all of it is."""
    if subtotal == 0 or merchandise_refunded_so_far >= subtotal:
        return ZERO
    return to_money(sale_amount * (subtotal - merchandise_refunded_so_far) / subtotal)


def reversal_amount(
    sale_amount: Decimal, subtotal: Decimal, merchandise_before: Decimal, merchandise_after: Decimal
) -> Decimal:
    """This refund's share of a sale amount (positive; stored negated): what was left before it
    less what is left after it, so the sum of the reversals never drifts from the rule."""
    return left_after(sale_amount, subtotal, merchandise_before) - left_after(
        sale_amount, subtotal, merchandise_after
    )


def vendor_net(order_amount: Decimal, commission_amount: Decimal, fee_amount: Decimal) -> Decimal:
    """What the vendor keeps of a row: the amount less the marketplace's commission and fee."""
    return order_amount - commission_amount - fee_amount


# --- rows ----------------------------------------------------------------------------------------


def commission_basis(rate: CommissionRate) -> str:
    """The stored basis of a rate in force: "referral", "promotional_tier" or "tier"."""
    if rate.basis == "referral":
        return "referral"
    return "promotional_tier" if rate.promotional else "tier"


def record_sale(order: Order, at: datetime) -> tuple[CommissionRecord, VendorPlatformFee]:
    """The pending commission record and the platform-fee row of a paid order, at today's rates,
    each with the basis of its rate (the commission's rule and tier, the fee's volume tier)."""
    commission = commission_rate_in_force(
        order.vendor_id, order.referral_session, at, order.customer_id
    )
    fee = platform_fee_rate_in_force(order.vendor, at)
    record = CommissionRecord(
        order_id=order.id,
        order_created_at=order.created_at,
        shop_id=order.vendor_id,
        commission_rate=commission.rate,
        commission_basis=commission_basis(commission),
        commission_tier=commission.tier,
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


#: Per kind of row: the column holding the amount a reversal reverses, the columns it copies from
#: the sale's row, and what it sets itself (a reversal is pending whatever its sale's status).
REVERSAL_COPIES = {
    CommissionRecord: (
        "commission_amount",
        (
            "order_id",
            "order_created_at",
            "shop_id",
            "commission_rate",
            "commission_basis",
            "commission_tier",
        ),
        {"status": "pending"},
    ),
    VendorPlatformFee: (
        "fee_amount",
        (
            "vendor_id",
            "order_id",
            "order_created_at",
            "vendor_type",
            "fee_percentage",
            "volume_tier",
            "is_promotional_rate",
        ),
        {},
    ),
}


def _sale_row(model, order: Order):
    return db.session.scalar(
        sa.select(model).where(
            model.order_id == order.id,
            model.order_created_at == order.created_at,
            model.refund_id.is_(None),
        )
    )


def sale_commission(order: Order) -> CommissionRecord | None:
    return _sale_row(CommissionRecord, order)


def sale_platform_fee(order: Order) -> VendorPlatformFee | None:
    return _sale_row(VendorPlatformFee, order)


def _reversing_row(sale, refund, merchandise_before: Decimal, merchandise_after: Decimal, at):
    """A sale row's reversal through one refund: its rates and basis, negative amounts."""
    amount_column, copied, fixed = REVERSAL_COPIES[type(sale)]
    reversed_amount = reversal_amount(
        getattr(sale, amount_column), sale.order_amount, merchandise_before, merchandise_after
    )
    return type(sale)(
        **{column: getattr(sale, column) for column in copied},
        **{amount_column: -reversed_amount},
        **fixed,
        order_amount=-(merchandise_after - merchandise_before),
        refund_id=refund.id,
        created_at=at,
    )


def record_refund(
    order: Order, refund, merchandise_before: Decimal, merchandise_after: Decimal, at: datetime
) -> tuple[CommissionRecord | None, VendorPlatformFee | None]:
    """The reversing commission and fee rows of one refund, with the sale's rates.

    ``merchandise_before``/``after`` are the order's ``refunded_subtotal`` around this refund. An
    order paid before commissions were recorded has no sale to reverse: nothing is written.
    """
    rows = []
    for sale in (sale_commission(order), sale_platform_fee(order)):
        row = None
        if sale is not None:
            row = _reversing_row(sale, refund, merchandise_before, merchandise_after, at)
            db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows[0], rows[1]


# --- settlement ----------------------------------------------------------------------------------


def settle_due_commissions(now: datetime) -> int:
    """Settle the pending commission records of orders that are final; return how many.

    An order is final when it counts as completed (``orders/completion.py``: completed, or paid
    ``ORDER_AUTO_COMPLETE_DAYS`` ago and not on hold) at least ``RETURN_WINDOW_DAYS`` ago (no
    return can come any more), or when it was canceled or refunded in full (its rows already net
    to zero). Sale rows and reversal rows alike; one set-based UPDATE, so running it again changes
    nothing. ``paid`` is set later by the payout run.
    """
    window_closed_before = now - timedelta(days=current_app.config["RETURN_WINDOW_DAYS"])
    final = sa.or_(
        completion.counts_as_completed_at() <= window_closed_before,
        sa.and_(Order.status == "canceled", Order.canceled_at <= now),
        Order.status == "refunded",
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
