"""The per-shop commission totals the dashboard reads always equal the sum of the records."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.commissions.models import CommissionRecord, VendorCommissionTotal
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
