"""The per-shop commission totals the dashboard and the statement read always equal the sum of
the records: their commission and count (migration 0005), their amounts and their platform fees
(0012), whichever of a record and its fee row is written, changed or deleted first."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.commissions.models import CommissionRecord, VendorCommissionTotal, VendorPlatformFee
from portal.commissions.services import settle_due_commissions
from portal.extensions import db
from portal.orders import services as orders
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor


def totals_table(shop_id):
    rows = db.session.execute(
        sa.select(
            VendorCommissionTotal.status,
            VendorCommissionTotal.commission_total,
            VendorCommissionTotal.record_count,
        ).where(VendorCommissionTotal.shop_id == shop_id)
    ).all()
    return {status: (total, count) for status, total, count in rows if count}


def totals_from_records(shop_id):
    rows = db.session.execute(
        sa.select(
            CommissionRecord.status,
            sa.func.sum(CommissionRecord.commission_amount),
            sa.func.count(),
        )
        .where(CommissionRecord.shop_id == shop_id)
        .group_by(CommissionRecord.status)
    ).all()
    return {status: (total, count) for status, total, count in rows}


def amounts_table(shop_id):
    rows = db.session.execute(
        sa.select(
            VendorCommissionTotal.status,
            VendorCommissionTotal.amount_total,
            VendorCommissionTotal.fee_total,
        )
        .where(VendorCommissionTotal.shop_id == shop_id)
        .execution_options(populate_existing=True)
    ).all()
    return {status: (amount, fee) for status, amount, fee in rows if amount or fee}


def amounts_from_rows(shop_id):
    """Each record's amount, and its fee row's fee, summed by the record's status in Python."""
    records = db.session.scalars(
        sa.select(CommissionRecord).where(CommissionRecord.shop_id == shop_id)
    ).all()
    fees = {
        (fee.order_id, fee.refund_id): fee.fee_amount
        for fee in db.session.scalars(
            sa.select(VendorPlatformFee).where(VendorPlatformFee.vendor_id == shop_id)
        )
    }
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for record in records:
        amount, fee = sums.get(record.status, (Decimal("0"), Decimal("0")))
        sums[record.status] = (
            amount + record.order_amount,
            fee + fees.get((record.order_id, record.refund_id), Decimal("0")),
        )
    return {status: pair for status, pair in sums.items() if any(pair)}


def test_totals_follow_sales_refunds_and_settlement(db_session, app, monkeypatch):
    # Orders paid 30 days ago and never completed stay pending here (no automatic completion).
    monkeypatch.setitem(app.config, "ORDER_AUTO_COMPLETE_DAYS", 60)
    vendor = vendor_for_user(make_vendor())
    other = vendor_for_user(make_vendor())
    long_ago = datetime.now(UTC) - timedelta(days=30)
    sold = []
    for amount in ("100.00", "40.00", "12.34"):
        order = orders.place_order(
            vendor_id=vendor.id,
            items=[orders.LineItem(title="Thing", quantity=1, unit_price=Decimal(amount))],
            placed_at=long_ago,
        )
        orders.mark_paid(order, long_ago)
        sold.append(order)
    orders.refund_order(sold[0], Decimal("25.00"), "r-1", at=long_ago)
    orders.complete_order(sold[1], long_ago + timedelta(hours=1))
    rival = orders.place_order(
        vendor_id=other.id,
        items=[orders.LineItem(title="Other", quantity=2, unit_price=Decimal("9.99"))],
    )
    orders.mark_paid(rival)
    assert totals_table(vendor.id) == totals_from_records(vendor.id)
    assert totals_table(vendor.id)["pending"] == (
        Decimal("19.10"),
        4,
    )  # 15 + 6 + 1.85 - 3.75 refunded

    settle_due_commissions(datetime.now(UTC))
    db.session.flush()
    assert totals_table(vendor.id) == totals_from_records(vendor.id)
    assert totals_table(vendor.id)["settled"] == (Decimal("6.00"), 1)
    assert totals_table(other.id) == totals_from_records(other.id)
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)
    # 100 + 12.34 - 25 refunded pending (fees 2.90 + 0.36 - 0.72, the refund leaving 2.18 of
    # 2.90); 40 settled (fee 1.16).
    assert amounts_table(vendor.id) == {
        "pending": (Decimal("87.34"), Decimal("2.54")),
        "settled": (Decimal("40.00"), Decimal("1.16")),
    }


def _paid(vendor, amount="50.00"):
    order = orders.place_order(
        vendor_id=vendor.id,
        items=[orders.LineItem(title="Thing", quantity=1, unit_price=Decimal(amount))],
    )
    return orders.mark_paid(order)


def _copy(row):
    table = type(row).__table__
    return {column.key: getattr(row, column.key) for column in table.columns}


def test_a_fee_counts_once_whichever_of_the_pair_comes_first(db_session):
    vendor = vendor_for_user(make_vendor())
    vendor.created_at = datetime.now(UTC) - timedelta(days=365)  # fees at 2.9%, not promotional
    order = _paid(vendor)
    orders.refund_order(order, Decimal("10.00"), "r-1")
    assert amounts_table(vendor.id) == {"pending": (Decimal("40.00"), Decimal("1.16"))}

    # Take the sale's pair out and put it back in the other order: fee first, then the record.
    record = db.session.scalar(
        sa.select(CommissionRecord).where(
            CommissionRecord.order_id == order.id, CommissionRecord.refund_id.is_(None)
        )
    )
    fee = db.session.scalar(
        sa.select(VendorPlatformFee).where(
            VendorPlatformFee.order_id == order.id, VendorPlatformFee.refund_id.is_(None)
        )
    )
    saved_record, saved_fee = _copy(record), _copy(fee)
    db.session.execute(sa.delete(CommissionRecord).where(CommissionRecord.id == record.id))
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)  # record gone, fee with it
    db.session.execute(sa.delete(VendorPlatformFee).where(VendorPlatformFee.id == fee.id))
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)
    db.session.execute(sa.insert(VendorPlatformFee).values(**saved_fee))
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)  # no record yet: no fee
    db.session.execute(sa.insert(CommissionRecord).values(**saved_record))
    assert amounts_table(vendor.id) == {"pending": (Decimal("40.00"), Decimal("1.16"))}

    # A fee corrected in place moves its total too.
    db.session.execute(
        sa.update(VendorPlatformFee).where(VendorPlatformFee.id == fee.id).values(fee_amount=2)
    )
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)
    assert amounts_table(vendor.id)["pending"][1] == Decimal("1.71")


def test_an_update_moves_only_what_it_changed(db_session):
    """Migration 0017: an update that changes no total's input (a payout run setting ``payout_id``)
    leaves the totals alone; one that changes the status, an amount or the sale a record belongs
    to moves exactly that record, with its fee."""
    vendor = vendor_for_user(make_vendor())
    vendor.created_at = datetime.now(UTC) - timedelta(days=365)  # fees at 2.9%
    first, second = _paid(vendor, "50.00"), _paid(vendor, "20.00")
    orders.refund_order(first, Decimal("10.00"), "r-1")
    before = amounts_table(vendor.id)
    records = sa.update(CommissionRecord).where(CommissionRecord.shop_id == vendor.id)

    db.session.execute(records.values(settled_at=datetime.now(UTC)))
    assert amounts_table(vendor.id) == before == amounts_from_rows(vendor.id)
    assert totals_table(vendor.id) == totals_from_records(vendor.id)

    db.session.execute(
        records.where(CommissionRecord.order_id == second.id).values(status="settled")
    )
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)
    assert amounts_table(vendor.id)["settled"] == (Decimal("20.00"), Decimal("0.58"))
    assert totals_table(vendor.id) == totals_from_records(vendor.id)

    # The first sale's record moved onto the second order: it now pairs with the second's fee.
    db.session.execute(
        records.where(
            CommissionRecord.order_id == first.id, CommissionRecord.refund_id.is_(None)
        ).values(
            order_id=second.id,
            order_created_at=second.created_at,
            order_amount=Decimal("49.00"),
        )
    )
    assert amounts_table(vendor.id) == amounts_from_rows(vendor.id)
    assert totals_table(vendor.id) == totals_from_records(vendor.id)
