"""What a payout may settle: the one rule for which commission records are payable, and their net.

A record is payable when it is ``settled``, in no payout yet, and its order has no open dispute
(a dispute holds that order's records only, not the vendor's others). Its vendor net is the
record's amount less its commission and its paired platform fee (docs/money.md); refund rows are
negative and net off. Runs group these rows per vendor. The vendor's payouts page needs only the
sum, which ``payable_total`` takes from the kept per-status totals (``vendor_commission_totals``)
less the few settled records that are not payable, so it never reads a large shop's history.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..commissions.models import CommissionRecord, VendorCommissionTotal, VendorPlatformFee
from ..orders.models import OrderDispute
from .models import Payout, PayoutRun


def _paired_fee():
    return sa.select(sa.func.coalesce(sa.func.sum(VendorPlatformFee.fee_amount), 0)).where(
        VendorPlatformFee.order_id == CommissionRecord.order_id,
        VendorPlatformFee.vendor_id == CommissionRecord.shop_id,
        VendorPlatformFee.refund_id.is_not_distinct_from(CommissionRecord.refund_id),
    )


def _vendor_net():
    return (
        CommissionRecord.order_amount
        - CommissionRecord.commission_amount
        - _paired_fee().scalar_subquery()
    ).label("vendor_net")


def payable_records(vendor_id: uuid.UUID | None = None) -> sa.Select:
    """Rows ``(id, shop_id, vendor_net)`` of the payable records, of one vendor or all."""
    disputed = sa.exists().where(
        OrderDispute.order_id == CommissionRecord.order_id,
        OrderDispute.order_created_at == CommissionRecord.order_created_at,
        OrderDispute.status == "open",
    )
    query = sa.select(CommissionRecord.id, CommissionRecord.shop_id, _vendor_net()).where(
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


def payable_total(vendor_id: uuid.UUID) -> tuple[Decimal, int]:
    """The vendor's payable net and record count: what ``payable_records(vendor_id)`` sums to.

    The settled records' kept totals, less the settled records that are not payable: those a
    payout claimed and has not marked paid (a payout not paid yet, or one of a run still
    running, which marks its records last; found by ``idx_commission_payout``) and those an open
    dispute holds (found from the few open disputes). A few index reads whatever the shop's
    history; ``tests/payouts/test_payable_total.py`` holds it equal to the rule.
    """
    kept = db.session.execute(
        sa.select(
            VendorCommissionTotal.amount_total
            - VendorCommissionTotal.commission_total
            - VendorCommissionTotal.fee_total,
            VendorCommissionTotal.record_count,
        ).where(
            VendorCommissionTotal.shop_id == vendor_id,
            VendorCommissionTotal.status == "settled",
        )
    ).first()
    if kept is None:
        return Decimal("0.00"), 0
    open_disputes = sa.select(OrderDispute.order_id, OrderDispute.order_created_at).where(
        OrderDispute.status == "open"
    )
    unmarked_payouts = sa.select(Payout.id).where(
        Payout.vendor_id == vendor_id,
        sa.or_(
            Payout.status != "paid",
            Payout.batch_id.in_(sa.select(PayoutRun.id).where(PayoutRun.status == "running")),
        ),
    )
    unpayable = sa.union_all(
        sa.select(_vendor_net()).where(
            CommissionRecord.payout_id.in_(unmarked_payouts),
            CommissionRecord.shop_id == vendor_id,
            CommissionRecord.status == "settled",
        ),
        sa.select(_vendor_net()).where(
            sa.tuple_(CommissionRecord.order_id, CommissionRecord.order_created_at).in_(
                open_disputes
            ),
            CommissionRecord.shop_id == vendor_id,
            CommissionRecord.status == "settled",
            CommissionRecord.payout_id.is_(None),
        ),
    ).subquery()
    held_net, held_count = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(unpayable.c.vendor_net), 0), sa.func.count())
    ).one()
    return Decimal(kept[0]) - Decimal(held_net), int(kept[1]) - int(held_count)
