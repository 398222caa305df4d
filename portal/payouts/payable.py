"""What a payout may settle: the one rule for which commission records are payable, and their net.

A record is payable when it is ``settled``, in no payout yet, and its order has no open dispute
(a dispute holds that order's records only, not the vendor's others). A payout lists its records
in ``commission_ids`` when a run groups it, and that list **claims** them until every one carries
``paid`` and the payout's id (``payouts.records_marked_at``): a run never writes the records it
pays; the marking job does, after the payout is paid, in small batches (marking.py). Meanwhile
a paid payout's list is the truth of its records: ``record_status`` and ``status_is`` read a
record listed by a paid, unmarked payout as paid, and ``paid_unmarked_totals`` moves those
records' sums from settled to paid in the kept totals, read from the payouts (each keeps the
count and sums of its listed records not written yet, ``unmarked_*``). Its vendor net is the
record's amount less its commission and its paired platform fee (docs/money.md); refund rows
are negative and net off. Runs group these rows per vendor. The vendor's payouts page needs only
the sum, which ``payable_total`` takes from the kept per-status totals
(``vendor_commission_totals``) less what the vendor's unmarked payouts keep and the few disputed
records, so it never reads a large shop's history, nor a large payout's list.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from ..commissions.models import CommissionRecord, VendorCommissionTotal, VendorPlatformFee
from ..extensions import db
from ..orders.models import OrderDispute
from .models import Payout


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


def unmarked_sums() -> tuple:
    """``(count, Σ amount, Σ commission, Σ fee)`` columns over payout rows: what they list that
    marking has not written yet (kept on each payout: grouping writes them, marking lowers them)."""
    return (
        sa.func.coalesce(sa.func.sum(Payout.unmarked_count), 0),
        sa.func.coalesce(sa.func.sum(Payout.unmarked_amount), 0),
        sa.func.coalesce(sa.func.sum(Payout.unmarked_commission), 0),
        sa.func.coalesce(sa.func.sum(Payout.unmarked_fee), 0),
    )


def unmarked_payouts():
    """The payouts that claim their records: not all of them marked yet (pending, waiting and
    failed payouts too: a failed one keeps its claim for the admin's retry)."""
    return Payout.records_marked_at.is_(None)


def paid_unmarked():
    """Paid payouts whose records are not all marked yet: their lists say which records are paid."""
    return sa.and_(Payout.status == "paid", Payout.records_marked_at.is_(None))


def paid_through_claim(vendor_id) -> sa.Select:
    """Rows ``(record_id)``: the records the vendor's paid, unmarked payouts list (``vendor_id``
    a value or a column). Empty between runs' payments and their marking: one probe of
    ``idx_payouts_unmarked``."""
    return sa.select(sa.func.unnest(Payout.commission_ids).label("record_id")).where(
        Payout.vendor_id == vendor_id, paid_unmarked()
    )


def _paid_through_claim(vendor_id):
    return CommissionRecord.id.in_(paid_through_claim(vendor_id).scalar_subquery())


def record_status(vendor_id):
    """A record's status as it is: ``paid`` once its payout is paid, before marking writes it.
    ``vendor_id``: the vendor whose records the query reads (one hashed list of its few unmarked
    payouts' ids, not a probe per record)."""
    return sa.case(
        (
            sa.and_(CommissionRecord.status == "settled", _paid_through_claim(vendor_id)),
            sa.literal("paid"),
        ),
        else_=CommissionRecord.status,
    )


def status_is(status: str, vendor_id) -> sa.ColumnElement[bool]:
    """``record_status(vendor_id) == status``, written so the planner keeps its indexes."""
    if status == "paid":
        return sa.or_(
            CommissionRecord.status == "paid",
            sa.and_(CommissionRecord.status == "settled", _paid_through_claim(vendor_id)),
        )
    if status == "settled":
        return sa.and_(CommissionRecord.status == "settled", ~_paid_through_claim(vendor_id))
    return CommissionRecord.status == status


def paid_unmarked_totals(vendor_id) -> sa.Select:
    """``(record_count, amount_total, commission_total, fee_total)`` of the vendor's records
    that are paid but still stored as settled: what the kept totals count as settled and are
    paid. Read from the sums kept on the vendor's paid, unmarked payouts (one probe of
    ``idx_payouts_unmarked``, a few rows), never from the records they list."""
    return sa.select(*unmarked_sums()).where(Payout.vendor_id == vendor_id, paid_unmarked())


def paid_unmarked_commission(vendor_id) -> sa.ScalarSelect:
    """The commission of those records (the dashboard's "Commission paid"), as a subquery."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Payout.unmarked_commission), 0))
        .where(Payout.vendor_id == vendor_id, paid_unmarked())
        .scalar_subquery()
    )


def claimed_ids(vendor_id: uuid.UUID | None = None) -> sa.Select:
    """Rows ``(id)``: the records listed by unmarked payouts (of one vendor, or all)."""
    listed = sa.func.unnest(Payout.commission_ids).table_valued("id").render_derived()
    query = sa.select(listed.c.id).select_from(Payout).join(listed, sa.true())
    query = query.where(unmarked_payouts())
    if vendor_id is not None:
        query = query.where(Payout.vendor_id == vendor_id)
    return query


def listed_records(payout_ids: list[uuid.UUID], vendor_id: uuid.UUID) -> sa.Subquery:
    """``(payout_id, record_id)`` of the records these payouts of the vendor list, paid or not."""
    return (
        sa.select(
            Payout.id.label("payout_id"),
            sa.func.unnest(Payout.commission_ids).label("record_id"),
        )
        .where(Payout.id.in_(payout_ids), Payout.vendor_id == vendor_id)
        .subquery()
    )


def _claimed(vendor_id: uuid.UUID | None = None):
    # NOT EXISTS, which PostgreSQL runs as one hash anti-join over the listed ids (a NOT IN
    # would probe them per record once they outgrow work_mem).
    listed = claimed_ids(vendor_id).subquery()
    return sa.exists().where(listed.c.id == CommissionRecord.id)


def _disputed():
    return sa.exists().where(
        OrderDispute.order_id == CommissionRecord.order_id,
        OrderDispute.order_created_at == CommissionRecord.order_created_at,
        OrderDispute.status == "open",
    )


def _payable(query: sa.Select, vendor_id: uuid.UUID | None) -> sa.Select:
    query = query.where(
        CommissionRecord.status == "settled",
        CommissionRecord.payout_id.is_(None),
        ~_claimed(vendor_id),
        ~_disputed(),
    )
    if vendor_id is not None:
        query = query.where(CommissionRecord.shop_id == vendor_id)
    return query


def payable_records(vendor_id: uuid.UUID | None = None) -> sa.Select:
    """Rows ``(id, shop_id, vendor_net)`` of the payable records, of one vendor or all."""
    return _payable(
        sa.select(CommissionRecord.id, CommissionRecord.shop_id, _vendor_net()), vendor_id
    )


def payable_parts() -> sa.Select:
    """Rows ``(id, shop_id, order_amount, commission_amount, fee)`` of every payable record:
    the same rule, with the net's parts apart (vendor net = amount - commission - fee), so
    grouping can keep on each payout the sums the kept totals count, looking each fee up once."""
    return _payable(
        sa.select(
            CommissionRecord.id,
            CommissionRecord.shop_id,
            CommissionRecord.order_amount,
            CommissionRecord.commission_amount,
            _paired_fee().scalar_subquery().label("fee"),
        ),
        None,
    )


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

    The settled records' kept totals, less the settled records that are not payable: those
    claimed by the vendor's unmarked payouts (their kept sums: a few payout rows, none between
    runs) and those an open dispute holds that no such payout lists (found from the few open
    disputes). A few index reads whatever the shop's history or the size of its payouts;
    ``tests/payouts/test_payable_total.py`` holds it equal to the rule.
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
    claimed_count, amount, commission, fee = db.session.execute(
        sa.select(*unmarked_sums()).where(Payout.vendor_id == vendor_id, unmarked_payouts())
    ).one()
    open_disputes = sa.select(OrderDispute.order_id, OrderDispute.order_created_at).where(
        OrderDispute.status == "open"
    )
    listed_by_unmarked = sa.exists().where(
        Payout.vendor_id == vendor_id,
        unmarked_payouts(),
        CommissionRecord.id == sa.func.any(Payout.commission_ids),
    )
    disputed = (
        sa.select(_vendor_net())
        .where(
            sa.tuple_(CommissionRecord.order_id, CommissionRecord.order_created_at).in_(
                open_disputes
            ),
            CommissionRecord.shop_id == vendor_id,
            CommissionRecord.status == "settled",
            ~listed_by_unmarked,  # counted with its payout's sums already
        )
        .subquery()
    )
    disputed_net, disputed_count = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(disputed.c.vendor_net), 0), sa.func.count())
    ).one()
    held_net = Decimal(amount) - Decimal(commission) - Decimal(fee) + Decimal(disputed_net)
    held_count = int(claimed_count) + int(disputed_count)
    return Decimal(kept[0]) - held_net, int(kept[1]) - held_count
