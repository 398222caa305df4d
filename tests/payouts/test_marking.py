"""Marking after the run: the run writes no commission record; the marking job writes them in
batches, resumably and idempotently; meanwhile every page reads a paid payout's records as paid
and no run pays them again."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.commissions.models import CommissionRecord
from portal.extensions import db
from portal.payouts import marking, runs
from portal.payouts.models import Payout
from portal.payouts.payable import payable_records, payable_total
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor
from tests.orders.helpers import commission_rows, now
from tests.payouts.helpers import (
    connect,
    mark_queued_records,
    payouts_of,
    queued_marking_jobs,
    settled_order,
)


@pytest.fixture
def paid_shop(db_session, app_stripe):
    """An onboarded shop (signed-in owner's) with three settled orders, one partly refunded."""
    app_stripe.set_balance(1_000_000)
    owner = make_vendor(email="marked@example.com", shop_name="Marked Shop")
    shop = vendor_for_user(owner)
    shop.created_at = now() - timedelta(days=365)
    db.session.flush()
    connect(shop, app_stripe)
    orders = [
        settled_order(shop, "50.00", refund="10.00"),
        settled_order(shop, "20.00"),
        settled_order(shop, "30.00"),
    ]
    return owner, shop, orders


def _stored(shop) -> dict:
    return {
        row.id: (row.status, row.payout_id)
        for row in db.session.execute(
            sa.select(CommissionRecord.id, CommissionRecord.status, CommissionRecord.payout_id)
            .where(CommissionRecord.shop_id == shop.id)
            .execution_options(populate_existing=True)
        )
    }


def _versions(shop) -> dict:
    # Every UPDATE writes a new row version, at a new ctid: unchanged ctids, no update.
    return dict(
        db.session.execute(
            sa.text("SELECT id, ctid::text FROM commission_records WHERE shop_id = :shop"),
            {"shop": shop.id},
        ).all()
    )


def _updates_in_this_transaction() -> int:
    return db.session.scalar(
        sa.text(
            "SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_xact_user_tables"
            " WHERE relname LIKE 'commission_records%'"
        )
    )


def test_the_run_writes_no_commission_record_and_queues_the_marking(paid_shop):
    _, shop, _ = paid_shop
    before, updates = _versions(shop), _updates_in_this_transaction()

    run = runs.run_payouts()

    [payout] = payouts_of(shop)
    assert run.status == "finished" and payout.status == "paid"
    assert payout.records_marked == 0 and payout.records_marked_at is None
    assert _versions(shop) == before  # not one record rewritten
    assert _updates_in_this_transaction() == updates
    assert set(_stored(shop).values()) == {("settled", None)}
    # (The test Redis is shared by the session: other tests' jobs may wait beside it.)
    assert f"mark-payout-records-run-{run.id}" in [job.id for job in queued_marking_jobs()]

    assert mark_queued_records() == len(before)
    db.session.expire_all()
    assert set(_stored(shop).values()) == {("paid", payout.id)}
    assert payout.records_marked == len(before) and payout.records_marked_at is not None


def test_nothing_is_paid_twice_while_the_records_wait_for_marking(paid_shop, app_stripe):
    _, shop, _ = paid_shop
    runs.run_payouts()
    assert list(db.session.execute(payable_records(shop.id))) == []
    assert payable_total(shop.id) == (0, 0)

    second = runs.run_payouts()  # the gap: paid, not marked; the list still claims them

    assert len(payouts_of(shop)) == 1 and len(app_stripe.transfer_log()) == 1
    assert not db.session.scalar(sa.select(sa.exists().where(Payout.batch_id == second.id)))
    mark_queued_records()
    runs.run_payouts()
    assert len(payouts_of(shop)) == 1 and len(app_stripe.transfer_log()) == 1


def test_marking_goes_in_batches_each_committed_with_how_far_it_got(paid_shop, app_stripe):
    _, shop, _ = paid_shop
    other = vendor_for_user(make_vendor(shop_name="Second Shop"))
    other.created_at = now() - timedelta(days=365)
    connect(other, app_stripe)
    settled_order(other, "40.00", refund="5.00")
    runs.run_payouts()
    total = len(_stored(shop)) + len(_stored(other))  # 6 + 2 records

    first = marking.mark_batch(3)

    assert first == (3, 3) and total == 6
    paid = [s for s in {**_stored(shop), **_stored(other)}.values() if s[0] == "paid"]
    assert len(paid) == 3
    assert sum(p.records_marked for p in payouts_of(shop) + payouts_of(other)) == 3
    done = marking.mark_paid_records(3)
    assert done.records == total - 3 and done.batches == 1  # the other 3, then nothing left
    assert all(p.records_marked_at is not None for p in payouts_of(shop) + payouts_of(other))
    assert marking.unmarked_count() == 0


def test_marking_again_changes_nothing(paid_shop):
    _, shop, _ = paid_shop
    runs.run_payouts()
    mark_queued_records()
    [payout] = payouts_of(shop)
    marked = _stored(shop)
    versions = _versions(shop)

    assert marking.mark_paid_records().records == 0  # nothing left: no batch at all
    # A job replayed over a payout whose progress was lost goes over it again: writes nothing.
    db.session.execute(
        sa.update(Payout)
        .where(Payout.id == payout.id)
        .values(records_marked=0, records_marked_at=None)
    )
    again = marking.mark_paid_records(2)

    assert again.records == 0 and again.batches == (len(marked) + 1) // 2 == 2
    assert _stored(shop) == marked and _versions(shop) == versions
    db.session.refresh(payout)
    assert payout.records_marked_at is not None


def test_a_failed_payout_keeps_its_claim_and_reads_settled(paid_shop, app_stripe):
    _, shop, _ = paid_shop
    app_stripe.arm("card_declined")
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "failed"

    assert marking.mark_paid_records().records == 0  # only paid payouts are marked
    assert set(_stored(shop).values()) == {("settled", None)}
    assert list(db.session.execute(payable_records(shop.id))) == []  # kept for the retry


def _pages(client, shop, order, payout) -> dict:
    pages = {
        "statement": client.get("/vendor/commissions/").get_data(as_text=True),
        "paid": client.get("/vendor/commissions/?status=paid").get_data(as_text=True),
        "settled": client.get("/vendor/commissions/?status=settled").get_data(as_text=True),
        "csv": client.get("/vendor/commissions/export.csv").get_data(as_text=True),
        "dashboard": client.get("/vendor/").get_data(as_text=True),
        "order": client.get(f"/vendor/orders/{order.id}").get_data(as_text=True),
        "payout": client.get(f"/vendor/payouts/{payout.id}").get_data(as_text=True),
        "payouts": client.get("/vendor/payouts/").get_data(as_text=True),
        "payouts_csv": client.get("/vendor/payouts/export.csv").get_data(as_text=True),
    }
    # The CSRF token and the CSP nonce differ between responses; nothing else may.
    volatile = re.compile(r'(nonce|content|value)="[^"]*"')
    return {name: volatile.sub("", page) for name, page in pages.items()}


def test_pages_tell_the_truth_while_the_records_wait_for_marking(client, auth, paid_shop):
    owner, shop, orders = paid_shop
    records = len(_stored(shop))
    runs.run_payouts()
    [payout] = payouts_of(shop)
    auth.login(owner.email)

    gap = _pages(client, shop, orders[0], payout)

    assert set(_stored(shop).values()) == {("settled", None)}  # truly not written yet
    assert f"{records} rows" in gap["paid"] and "0 rows" in gap["settled"]
    assert "Paid out" in gap["statement"]
    assert {row["status"] for row in csv.DictReader(io.StringIO(gap["csv"]))} == {"paid"}
    assert "Paid out." in gap["order"]
    lines = list(csv.DictReader(io.StringIO(gap["payouts_csv"])))
    assert len(lines) == records and {line["payout_id"] for line in lines} == {str(payout.id)}

    mark_queued_records()
    assert set(_stored(shop).values()) == {("paid", payout.id)}
    db.session.expire_all()
    # Written or not, every page reads the same.
    assert _pages(client, shop, orders[0], payout) == gap


def test_the_dashboard_counts_a_paid_payouts_commission_as_paid_before_marking(
    client, auth, paid_shop
):
    from portal.tiers.dashboard import vendor_dashboard

    _, shop, _ = paid_shop
    settled = vendor_dashboard(shop.id, now().date()).commission_by_status
    runs.run_payouts()
    gap = vendor_dashboard(shop.id, now().date()).commission_by_status
    assert gap["settled"] == 0 and gap["paid"] == settled["settled"] > 0
    mark_queued_records()
    assert vendor_dashboard(shop.id, now().date()).commission_by_status == gap


def test_an_order_paid_but_unmarked_reads_paid_in_its_breakdown(paid_shop):
    from portal.orders.breakdown import money_breakdown

    _, _, orders = paid_shop
    runs.run_payouts()
    assert {r.status for r in commission_rows(orders[1])} == {"settled"}
    assert money_breakdown(orders[1]).sale.status == "paid"


def test_the_sweep_finishes_what_a_lost_job_left(paid_shop, app):
    from rq.utils import import_attribute

    from portal import scheduling

    _, shop, _ = paid_shop
    runs.run_payouts()
    for job in queued_marking_jobs():
        job.delete()  # the job is lost (a worker killed before it started, Redis flushed)
    [sweep] = [job for job in scheduling.periodic_jobs(app) if job.name == "mark-payout-records"]
    assert sweep.every == "hourly"

    assert import_attribute(sweep.func_path)() == len(_stored(shop))

    assert {status for status, _ in _stored(shop).values()} == {"paid"}
    assert marking.unmarked_count() == 0


def _totals(shop) -> dict:
    """Every total a page shows that the gap moves, as the pages read them."""
    from portal.commissions.statements import StatementFilter, statement_totals
    from portal.tiers.dashboard import vendor_dashboard

    db.session.expire_all()
    return {
        "all": statement_totals(shop.id, StatementFilter()),
        "paid": statement_totals(shop.id, StatementFilter(status="paid")),
        "settled": statement_totals(shop.id, StatementFilter(status="settled")),
        "dashboard": vendor_dashboard(shop.id, now().date()).commission_by_status,
        "payable": payable_total(shop.id),
    }


def test_a_payout_keeps_the_sums_of_the_records_it_has_not_marked(paid_shop):
    from tests.payouts.helpers import listed_sums

    _, shop, _ = paid_shop
    runs.run_payouts()
    [payout] = payouts_of(shop)
    expected = listed_sums(payout.commission_ids)
    assert expected["unmarked_count"] == len(payout.commission_ids) == 4
    assert {name: getattr(payout, name) for name in expected} == expected
    net = payout.unmarked_amount - payout.unmarked_commission - payout.unmarked_fee
    assert net == payout.amount  # the same records, summed by their parts

    assert marking.mark_batch(3) == (3, 3)
    db.session.refresh(payout)
    left = listed_sums(payout.commission_ids)  # the one record still stored settled
    assert left["unmarked_count"] == 1
    assert {name: getattr(payout, name) for name in left} == left

    mark_queued_records()
    db.session.refresh(payout)
    assert payout.unmarked_count == 0 and payout.unmarked_amount == 0
    assert payout.unmarked_commission == 0 and payout.unmarked_fee == 0


def test_totals_are_the_same_in_the_gap_half_marked_and_marked_and_count_nothing_twice(
    paid_shop,
):
    _, shop, _ = paid_shop
    before = _totals(shop)
    runs.run_payouts()
    [payout] = payouts_of(shop)

    gap = _totals(shop)
    # Every record moved from settled to paid once: none left settled, none counted twice.
    assert gap["all"] == before["all"]
    assert gap["paid"].rows == before["settled"].rows == len(payout.commission_ids)
    assert gap["paid"].amount == before["settled"].amount
    assert gap["paid"].fee == before["settled"].fee
    assert gap["settled"].rows == 0 and gap["settled"].amount == 0
    assert gap["dashboard"]["paid"] == before["dashboard"]["settled"] > 0
    assert gap["dashboard"]["settled"] == 0
    assert gap["payable"] == (0, 0) and before["payable"][1] == 4

    assert marking.mark_batch(3) == (3, 3)  # one payout half written
    assert _totals(shop) == gap
    # A replayed batch over records already written writes nothing and lowers nothing.
    db.session.execute(sa.update(Payout).where(Payout.id == payout.id).values(records_marked=0))
    assert marking.mark_batch(3) == (3, 0)
    assert _totals(shop) == gap

    mark_queued_records()
    assert _totals(shop) == gap
    assert marking.mark_paid_records().records == 0
    assert _totals(shop) == gap


def test_two_paid_payouts_of_one_vendor_in_the_gap_add_up(paid_shop, app_stripe):
    _, shop, _ = paid_shop
    runs.run_payouts()
    settled_order(shop, "40.00", refund="4.00")
    second = runs.run_payouts()  # the first payout's records still wait for marking
    assert len(payouts_of(shop)) == 2 and second.status == "finished"

    gap = _totals(shop)
    records = sum(len(p.commission_ids) for p in payouts_of(shop))
    assert gap["paid"].rows == records == 6 and gap["settled"].rows == 0
    assert gap["payable"] == (0, 0)
    assert len(app_stripe.transfer_log()) == 2

    mark_queued_records()
    assert _totals(shop) == gap
