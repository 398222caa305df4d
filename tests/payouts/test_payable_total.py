"""The payouts page's payable total (kept totals less what is not payable) equals the rule's sum
(``payable_records``) in every state a vendor's records pass through."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.orders.models import OrderDispute
from portal.payouts.models import Payout, PayoutRun
from portal.payouts.payable import payable_records, payable_total
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor
from tests.orders.helpers import commission_rows, now, paid_order
from tests.payouts.helpers import listed_sums, settled_order


@pytest.fixture
def vendor(db_session):
    vendor = vendor_for_user(make_vendor(shop_name="Totals Shop"))
    vendor.created_at = now() - timedelta(days=365)
    db.session.flush()
    return vendor


def by_the_rule(vendor) -> tuple[Decimal, int]:
    rows = db.session.execute(payable_records(vendor.id)).all()
    return sum((row.vendor_net for row in rows), Decimal("0.00")), len(rows)


def agree(vendor) -> tuple[Decimal, int]:
    db.session.flush()
    expected = by_the_rule(vendor)
    assert payable_total(vendor.id) == expected
    return expected


def dispute(order, status: str = "open") -> None:
    closed = utcnow() if status != "open" else None
    db.session.add(
        OrderDispute(
            order_id=order.id,
            order_created_at=order.created_at,
            amount=Decimal("10.00"),
            status=status,
            opened_at=utcnow(),
            closed_at=closed,
        )
    )


def claim(vendor, order, status: str, run: PayoutRun | None = None, mark: bool = False) -> Payout:
    """A payout of ``order``'s records, as a run leaves it: listed (claimed) with their sums
    kept, and marked paid (the payout's id and ``paid`` on each record) or not."""
    records = commission_rows(order)
    payout = Payout(
        **listed_sums(r.id for r in records),
        batch_id=run.id if run else None,
        vendor_id=vendor.id,
        vendor_type=vendor.vendor_type,
        amount=Decimal("1.00"),
        commission_ids=[r.id for r in records],
        status=status,
        stripe_transfer_id="tr_x" if status == "paid" else None,
    )
    db.session.add(payout)
    db.session.flush()
    if mark:
        mark_records(payout)
    return payout


def mark_records(payout: Payout) -> None:
    for record in db.session.scalars(
        sa.select(CommissionRecord).where(CommissionRecord.id.in_(payout.commission_ids))
    ):
        record.payout_id, record.status = payout.id, "paid"
    payout.records_marked, payout.records_marked_at = len(payout.commission_ids), utcnow()
    payout.unmarked_count, payout.unmarked_amount = 0, Decimal("0.00")
    payout.unmarked_commission, payout.unmarked_fee = Decimal("0.00"), Decimal("0.00")


def test_no_records_is_nothing(vendor):
    assert payable_total(vendor.id) == (Decimal("0.00"), 0)
    assert agree(vendor) == (Decimal("0.00"), 0)


def test_the_total_follows_every_state_of_the_records(vendor):
    sold = [settled_order(vendor, price) for price in ("50.00", "20.00", "35.50", "12.00")]
    refunded = settled_order(vendor, "80.00", refund="30.00")
    paid_order(vendor, items=[("9.00", 1)])  # pending: counted by neither
    amount, count = agree(vendor)
    assert count == 6 and amount > 0  # four sales, a sale and its refund

    # An open dispute holds its order's records; a won one does not.
    dispute(refunded)
    dispute(sold[0], "won")
    assert agree(vendor)[1] == 4

    # A run running: a payout sent and paid, its records not marked yet; another being sent.
    run = PayoutRun(trigger="admin", status="running")
    db.session.add(run)
    db.session.flush()
    sent = claim(vendor, sold[0], "paid", run)
    failed = claim(vendor, sold[1], "pending", run)
    assert agree(vendor)[1] == 2

    # The run marks the paid one's records; a failed payout keeps its records claimed.
    mark_records(sent)
    failed.status, failed.failed_at = "failed", utcnow()
    run.status, run.finished_at = "finished", utcnow()
    assert agree(vendor)[1] == 2

    # A finished run's paid payout whose records the marking job has not written yet: still
    # claimed (no run pays them again), then marked.
    gap = claim(vendor, sold[2], "paid", run)
    assert agree(vendor)[1] == 1  # only sold[3]
    mark_records(gap)
    assert agree(vendor)[1] == 1

    # A record claimed before payouts listed without writing (a run interrupted across the
    # change): its payout_id is set while it is still settled; it stays claimed.
    legacy = claim(vendor, sold[3], "failed")
    for record in commission_rows(sold[3]):
        record.payout_id = legacy.id
    assert agree(vendor) == (Decimal("0.00"), 0)


def test_another_vendors_records_and_payouts_do_not_count(vendor):
    other = vendor_for_user(make_vendor(shop_name="Other Shop"))
    other.created_at = now() - timedelta(days=365)
    mine = settled_order(vendor, "40.00")
    theirs = settled_order(other, "60.00")
    claim(other, theirs, "pending")
    dispute(theirs)
    assert agree(vendor)[1] == 1
    assert agree(other) == (Decimal("0.00"), 0)
    assert mine.id


def test_a_claimed_record_whose_order_is_disputed_is_held_once(vendor):
    sold = [settled_order(vendor, price) for price in ("50.00", "20.00")]
    claim(vendor, sold[0], "failed")  # claimed, kept for the admin's retry
    dispute(sold[0])  # and now disputed too: still one record held, not two
    assert agree(vendor) == by_the_rule(vendor)
    assert agree(vendor)[1] == 1


def test_a_paid_payout_half_marked_counts_only_what_is_left(vendor):
    sold = [
        settled_order(vendor, "50.00", refund="10.00"),  # a sale and its refund: two records
        settled_order(vendor, "20.00"),
        settled_order(vendor, "35.50"),
    ]
    payout = claim(vendor, sold[0], "paid")
    assert len(payout.commission_ids) == 2
    claim(vendor, sold[1], "pending")
    # The marking job wrote one of the payout's records and lowered its sums by that one.
    [first] = commission_rows(sold[0])[:1]
    first.payout_id, first.status = payout.id, "paid"
    db.session.flush()
    for name, value in listed_sums(payout.commission_ids).items():
        setattr(payout, name, value)
    payout.records_marked = 1
    assert payout.unmarked_count == 1
    assert agree(vendor)[1] == 1  # only sold[2]
