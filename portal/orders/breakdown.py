"""An order's money, as the shop sees it: what it sold, what the marketplace took, what it keeps.

Read from the rows order intake wrote (``commission_records`` and ``vendor_platform_fees``, paired
by ``refund_id``; NULL for the sale), never recomputed: the page shows what will be paid out. The
delivery fee and a points discount are the marketplace's (PRODUCT.md, "Money"): the vendor is paid
on the full merchandise subtotal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..commissions.models import CommissionRecord, VendorPlatformFee
from ..commissions.services import vendor_net
from ..extensions import db
from ..payouts.payable import record_status
from .models import Order, OrderRefund

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SaleLine:
    created_at: datetime
    order_amount: Decimal
    commission_rate: Decimal
    commission: Decimal
    fee_rate: Decimal
    fee: Decimal
    volume_tier: str | None
    is_promotional_rate: bool
    vendor_type: str | None
    status: str

    @property
    def net(self) -> Decimal:
        return vendor_net(self.order_amount, self.commission, self.fee)


@dataclass(frozen=True)
class RefundLine:
    refund_id: uuid.UUID
    created_at: datetime
    refund_ref: str
    reason: str | None
    amount: Decimal  # the customer's money
    merchandise: Decimal  # its merchandise share: what commission and fee follow
    delivery: Decimal  # the part of ``amount`` that returned the delivery fee
    items: list[dict]  # the lines it named (empty: it named none)
    commission_reversed: Decimal
    fee_reversed: Decimal

    @property
    def net_reversed(self) -> Decimal:
        return vendor_net(self.merchandise, self.commission_reversed, self.fee_reversed)


@dataclass(frozen=True)
class MoneyBreakdown:
    subtotal: Decimal
    delivery_fee: Decimal
    points_discount: Decimal
    total: Decimal
    refunded_amount: Decimal
    refunded_subtotal: Decimal
    sale: SaleLine | None
    #: The rule the sale's commission rate came from, as stored on its row: "tier",
    #: "promotional_tier" or "referral"; and the tier it was computed from (None for a referral).
    commission_basis: str | None
    commission_tier: str | None
    refunds: list[RefundLine]
    # Sums over every row (sale and reversals): what the order is worth to each party now.
    order_amount_after: Decimal
    commission_after: Decimal
    fee_after: Decimal

    @property
    def commission_promotional(self) -> bool:
        return self.commission_basis == "promotional_tier"

    @property
    def net_after(self) -> Decimal:
        return vendor_net(self.order_amount_after, self.commission_after, self.fee_after)

    @property
    def merchandise_kept(self) -> Decimal:
        return self.subtotal - self.refunded_subtotal

    @property
    def balances(self) -> bool:
        """subtotal - refunded merchandise = net + commission + fee, to the cent."""
        if self.sale is None:
            return True
        return self.merchandise_kept == self.net_after + self.commission_after + self.fee_after


def money_breakdown(order: Order) -> MoneyBreakdown:
    # With each record its status as it is: paid once its payout is, before marking writes it.
    found = db.session.execute(
        sa.select(CommissionRecord, record_status(order.vendor_id))
        .where(CommissionRecord.order_id == order.id, CommissionRecord.shop_id == order.vendor_id)
        .order_by(CommissionRecord.created_at)
    ).all()
    commissions = [row for row, _ in found]
    status_of = {row.id: status for row, status in found}
    fees = db.session.scalars(
        sa.select(VendorPlatformFee).where(
            VendorPlatformFee.order_id == order.id, VendorPlatformFee.vendor_id == order.vendor_id
        )
    ).all()
    fee_by_refund = {fee.refund_id: fee for fee in fees}
    sale_row = next((row for row in commissions if row.refund_id is None), None)
    sale = basis = tier = None
    if sale_row is not None:
        sale_fee = fee_by_refund.get(None)
        sale = SaleLine(
            created_at=sale_row.created_at,
            order_amount=sale_row.order_amount,
            commission_rate=sale_row.commission_rate,
            commission=sale_row.commission_amount,
            fee_rate=sale_fee.fee_percentage if sale_fee else ZERO,
            fee=sale_fee.fee_amount if sale_fee else ZERO,
            volume_tier=sale_fee.volume_tier if sale_fee else None,
            is_promotional_rate=bool(sale_fee and sale_fee.is_promotional_rate),
            vendor_type=sale_fee.vendor_type if sale_fee else None,
            status=status_of[sale_row.id],
        )
        basis, tier = sale_row.commission_basis, sale_row.commission_tier

    reversal_by_refund = {row.refund_id: row for row in commissions if row.refund_id is not None}
    refunds = []
    for refund in db.session.scalars(
        sa.select(OrderRefund)
        .where(OrderRefund.order_id == order.id)
        .order_by(OrderRefund.created_at, OrderRefund.id)
    ):
        reversal = reversal_by_refund.get(refund.id)
        fee = fee_by_refund.get(refund.id)
        refunds.append(
            RefundLine(
                refund_id=refund.id,
                created_at=refund.created_at,
                refund_ref=refund.refund_ref,
                reason=refund.reason,
                amount=refund.amount,
                merchandise=refund.subtotal_amount,
                delivery=refund.delivery_amount,
                items=refund.items or [],
                commission_reversed=-reversal.commission_amount if reversal else ZERO,
                fee_reversed=-fee.fee_amount if fee else ZERO,
            )
        )
    return MoneyBreakdown(
        subtotal=order.subtotal,
        delivery_fee=order.delivery_fee,
        points_discount=order.points_discount,
        total=order.total,
        refunded_amount=order.refunded_amount,
        refunded_subtotal=order.refunded_subtotal,
        sale=sale,
        commission_basis=basis,
        commission_tier=tier,
        refunds=refunds,
        order_amount_after=sum((row.order_amount for row in commissions), ZERO),
        commission_after=sum((row.commission_amount for row in commissions), ZERO),
        fee_after=sum((fee.fee_amount for fee in fees), ZERO),
    )


def commission_status_words(order: Order, breakdown: MoneyBreakdown) -> str | None:
    """What happens to the order's commission, in the shop's words (not the record's status).

    None before payment (there is no commission yet).
    """
    if breakdown.sale is None:
        return None
    if breakdown.merchandise_kept == 0:
        reason = "canceled" if order.canceled_at is not None else "refunded in full"
        return f"Reversed — the order was {reason}, so no commission is charged."
    status = breakdown.sale.status
    if status == "paid":
        return "Paid out."
    if status == "settled":
        return "Settled — final; it waits for the payout run."
    days = current_app.config["RETURN_WINDOW_DAYS"]
    return (
        f"Pending — final {days} days after the order is completed or delivered (a paid order "
        "the storefront never completes counts as completed "
        f"{current_app.config['ORDER_AUTO_COMPLETE_DAYS']} days after payment)."
    )
