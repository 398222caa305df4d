"""What a payout may settle: the one rule for which commission records are payable, and their net.

A record is payable when it is ``settled``, in no payout yet, and its order has no open dispute
(a dispute holds that order's records only, not the vendor's others). Its vendor net is the
record's amount less its commission and its paired platform fee (docs/money.md); refund rows are
negative and net off. Runs group these rows per vendor; the vendor's payouts page sums its own.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ..commissions.models import CommissionRecord, VendorPlatformFee
from ..orders.models import OrderDispute


def payable_records(vendor_id: uuid.UUID | None = None) -> sa.Select:
    """Rows ``(id, shop_id, vendor_net)`` of the payable records, of one vendor or all."""
    fee = sa.select(sa.func.coalesce(sa.func.sum(VendorPlatformFee.fee_amount), 0)).where(
        VendorPlatformFee.order_id == CommissionRecord.order_id,
        VendorPlatformFee.vendor_id == CommissionRecord.shop_id,
        VendorPlatformFee.refund_id.is_not_distinct_from(CommissionRecord.refund_id),
    )
    disputed = sa.exists().where(
        OrderDispute.order_id == CommissionRecord.order_id,
        OrderDispute.order_created_at == CommissionRecord.order_created_at,
        OrderDispute.status == "open",
    )
    query = sa.select(
        CommissionRecord.id,
        CommissionRecord.shop_id,
        (
            CommissionRecord.order_amount
            - CommissionRecord.commission_amount
            - fee.scalar_subquery()
        ).label("vendor_net"),
    ).where(
        CommissionRecord.status == "settled",
        CommissionRecord.payout_id.is_(None),
        ~disputed,
    )
    if vendor_id is not None:
        query = query.where(CommissionRecord.shop_id == vendor_id)
    return query


def disputed_records(vendor_id: uuid.UUID) -> sa.Select:
    """Rows ``(id, order_id)`` of a vendor's settled, unpaid records held by an open dispute."""
    return (
        sa.select(CommissionRecord.id, CommissionRecord.order_id)
        .join(
            OrderDispute,
            sa.and_(
                OrderDispute.order_id == CommissionRecord.order_id,
                OrderDispute.order_created_at == CommissionRecord.order_created_at,
                OrderDispute.status == "open",
            ),
        )
        .where(
            CommissionRecord.shop_id == vendor_id,
            CommissionRecord.status == "settled",
            CommissionRecord.payout_id.is_(None),
        )
    )
