"""Which commission records a payout may settle, and what they net the vendor."""

from __future__ import annotations

from decimal import Decimal

from portal.clock import utcnow
from portal.extensions import db
from portal.orders.models import OrderDispute
from portal.payouts.payable import disputed_records, payable_records
from tests.orders.helpers import commission_rows, established_shop, fee_rows, paid_order
from tests.payouts.helpers import settled_order


def payable(shop) -> dict:
    return {row.id: row.vendor_net for row in db.session.execute(payable_records(shop.id))}


def test_settled_records_net_their_commission_and_paired_fee_refunds_included(db_session):
    shop = established_shop()
    order = settled_order(shop, "50.00", refund="10.00")
    records = commission_rows(order)
    fees = {fee.refund_id: fee.fee_amount for fee in fee_rows(order)}
    expected = {r.id: r.order_amount - r.commission_amount - fees[r.refund_id] for r in records}

    assert payable(shop) == expected
    assert sum(expected.values()) < Decimal("40.00")  # the refund netted off the sale
    assert any(net < 0 for net in expected.values())


def test_pending_and_already_paid_out_records_are_not_payable(db_session):
    shop = established_shop()
    paid_order(shop, items=[("20.00", 1)])  # still pending
    order = settled_order(shop)
    assert len(payable(shop)) == 1
    record = commission_rows(order)[0]
    record.status = "paid"
    db.session.flush()
    assert payable(shop) == {}


def test_an_open_dispute_holds_only_its_own_order(db_session):
    shop = established_shop()
    disputed = settled_order(shop, "30.00")
    other = settled_order(shop, "40.00")
    dispute = OrderDispute(
        order_id=disputed.id,
        order_created_at=disputed.created_at,
        amount=Decimal("30.00"),
        opened_at=utcnow(),
    )
    db.session.add(dispute)
    db.session.flush()

    assert set(payable(shop)) == {r.id for r in commission_rows(other)}
    assert [row.order_id for row in db.session.execute(disputed_records(shop.id))] == [disputed.id]

    dispute.status = "won"
    db.session.flush()
    assert len(payable(shop)) == 2


def test_one_vendor_never_sees_another_vendors_records(db_session):
    shop, other = established_shop(), established_shop()
    settled_order(other)
    assert payable(shop) == {}
    assert len(db.session.execute(payable_records()).all()) == 1
