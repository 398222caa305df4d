"""Retention: commission months aggregated into commission_summaries, then order months moved to
archived_orders, whole partitions at a time.

The data is written in March 2024 through the orders' own services (items, a partial and a full
refund, an external reference, a hold, a delivery with a driver's earning, points rows); its
partitions are made in the test's transaction. Figures read before a run are compared with the
archive's after it, and a run repeated (or finishing what a killed run left) changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.customers.models import Customer
from portal.deliveries.models import DeliveryAssignment
from portal.extensions import db
from portal.loyalty.models import PointsTransaction
from portal.operations import commission_retention, order_archive, retiring
from portal.operations.models import JobRun
from portal.operations.partitions import PartitionedTable, create_partition
from portal.operations.runs import recorded_run
from portal.orders import services as orders
from portal.orders.completion import hold_order
from portal.payouts.driver_models import DriverEarning
from portal.periods import Period
from portal.vendors.services import vendor_for_user
from tests.factories import make_admin, make_customer, make_driver, make_vendor

MARCH = datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
APRIL = Period(2024, 4)  # "before": March 2024 is past the window


@pytest.fixture(autouse=True)
def forget_runs(app):
    """Runs are recorded on a connection of their own (committed): remove this test's."""
    yield
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.delete(JobRun))


def _driver_id():
    from portal.deliveries.models_drivers import Driver

    user = make_driver()
    return db.session.scalar(sa.select(Driver.id).where(Driver.user_id == user.id))


def sell(vendor_id, customer_id, driver_id, *, refund=None, external_id=None):
    order = orders.place_order(
        vendor_id=vendor_id,
        customer_id=customer_id,
        items=[
            orders.LineItem(title="Notebook", quantity=3, unit_price=Decimal("12.50")),
            orders.LineItem(title="Pen", quantity=1, unit_price=Decimal("4.99")),
        ],
        delivery_fee=Decimal("4.99"),
        placed_at=MARCH,
        source="storefront" if external_id else "portal",
        external_id=external_id,
    )
    orders.mark_paid(order, datetime(2024, 3, 10, 10, 0, tzinfo=UTC))
    if refund:
        amount = order.total if refund == "all" else Decimal(refund)
        orders.refund_order(order, amount, f"r-{order.id}", at=datetime(2024, 3, 12, tzinfo=UTC))
    delivery = DeliveryAssignment(
        order_id=order.id,
        order_created_at=order.created_at,
        provider="internal",
        pickup_address={"line1": "1 Shop St"},
        dropoff_address={"line1": "2 Home Ave"},
        customer_delivery_fee=Decimal("4.99"),
        created_at=MARCH,
        updated_at=MARCH,
    )
    db.session.add(delivery)
    db.session.flush()
    db.session.add(
        DriverEarning(
            driver_id=driver_id,
            delivery_id=delivery.id,
            pay=Decimal("5.00"),
            tip=Decimal("1.25"),
            amount=Decimal("6.25"),
            delivered_at=MARCH,
            status="paid",
        )
    )
    db.session.add(
        PointsTransaction(
            customer_id=customer_id,
            type="earned",
            amount=47,
            reason="order",
            order_id=order.id,
            order_created_at=order.created_at,
            balance_before=0,
            balance_after=47,
            created_at=datetime(2024, 3, 10, 10, 0, tzinfo=UTC),
        )
    )
    db.session.flush()
    return order


@pytest.fixture
def people(db_session):
    """The shop's and the customer's accounts (to sign in as)."""
    return {"vendor": make_vendor(), "customer": make_customer()}


@pytest.fixture
def march(people):
    """Three March 2024 orders of one shop, in partitions of their own."""
    vendor = vendor_for_user(people["vendor"])
    customer = db.session.scalar(
        sa.select(Customer).where(Customer.user_id == people["customer"].id)
    )
    driver_id = _driver_id()
    placed = [
        sell(vendor.id, customer.id, driver_id),
        sell(vendor.id, customer.id, driver_id, refund="10.00", external_id=f"x-{uuid.uuid4()}"),
        sell(vendor.id, customer.id, driver_id, refund="all"),
    ]
    hold_order(placed[0], "customer dispute", held_by=make_admin(), at=MARCH)
    for table, period in (("orders", "month"), ("commission_records", "month")):
        create_partition(PartitionedTable(table, period), date(2024, 3, 1))
    create_partition(PartitionedTable("points_transactions", "year"), date(2024, 1, 1))
    db.session.flush()
    return placed


def run(job="test", dry_run=False):
    return recorded_run(job, dry_run=dry_run)


def scalar_row(query, **params):
    return tuple(db.session.execute(sa.text(query), params).one())


def ids_param(placed):
    # From the identity map: a commit expires the orders, and the archive removes their rows.
    return [sa.inspect(order).identity[0] for order in placed]


def q(query, placed):
    return tuple(
        db.session.execute(
            sa.text(query).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids_param(placed)},
        ).one()
    )


def partition_exists(name):
    return db.session.scalar(sa.select(sa.func.to_regclass(name))) is not None


def pay_everything():
    db.session.execute(sa.text("UPDATE commission_records SET status = 'paid'"))


# --- commission records ---------------------------------------------------------------------


def test_a_month_with_money_still_owed_is_kept_and_reported(march):
    with run() as r:
        months = commission_retention.aggregate_old_commissions(r, before=APRIL)

    (month,) = months
    assert month.partition == "commission_records_2024_03"
    # All pending: the plain sale, and the partly refunded one's sale and reversal; the fully
    # refunded order's pair nets to zero and owes nothing.
    assert month.kept and (month.owed_records, month.owed_amount) == (3, month.total)
    assert partition_exists("commission_records_2024_03")
    assert db.session.scalar(sa.text("SELECT count(*) FROM commission_summaries")) == 0


def test_paid_records_are_summed_per_shop_and_month_to_the_cent_then_dropped(march):
    pay_everything()
    records = db.session.execute(
        sa.text("SELECT shop_id, order_id, refund_id, commission_amount FROM commission_records")
    ).all()
    expected_total = defaultdict(Decimal)
    expected_orders = defaultdict(set)
    for shop, order, refund, amount in records:
        expected_total[shop] += amount
        if refund is None:
            expected_orders[shop].add(order)
    totals_before = scalar_row("SELECT sum(commission_total) FROM vendor_commission_totals")

    with run() as r:
        (month,) = commission_retention.aggregate_old_commissions(r, before=APRIL)

    assert month.dropped and month.detach_ms is not None
    assert not partition_exists("commission_records_2024_03")
    summaries = db.session.execute(
        sa.text("SELECT shop_id, year, month, total_amount, order_count FROM commission_summaries")
    ).all()
    assert {(s.shop_id, s.year, s.month): (s.total_amount, s.order_count) for s in summaries} == {
        (shop, 2024, 3): (expected_total[shop], len(expected_orders[shop]))
        for shop in expected_total
    }
    # The kept per-status totals still count every record ever written.
    assert scalar_row("SELECT sum(commission_total) FROM vendor_commission_totals") == totals_before

    with run() as again:
        assert commission_retention.aggregate_old_commissions(again, before=APRIL) == []
    assert db.session.scalar(sa.text("SELECT sum(total_amount) FROM commission_summaries")) == sum(
        expected_total.values()
    )


def test_a_fully_refunded_order_nets_to_zero_and_does_not_hold_the_month(march):
    # Only the fully refunded order's sale and reversal stay unpaid: together they owe nothing.
    full = march[2]
    db.session.execute(
        sa.text("UPDATE commission_records SET status = 'paid' WHERE order_id <> :o"),
        {"o": full.id},
    )

    with run() as r:
        (month,) = commission_retention.aggregate_old_commissions(r, before=APRIL)

    assert month.dropped


def test_a_partly_refunded_unpaid_order_keeps_the_month(march):
    partial = march[1]
    db.session.execute(
        sa.text("UPDATE commission_records SET status = 'paid' WHERE order_id <> :o"),
        {"o": partial.id},
    )

    with run() as r:
        (month,) = commission_retention.kept_commission_months() or [None]
        assert month is not None and month.owed_records == 2
        commission_retention.aggregate_old_commissions(r, before=APRIL)

    assert partition_exists("commission_records_2024_03")


def test_a_payout_still_accounts_for_its_aggregated_records(march):
    from portal.payouts.models import Payout

    vendor_id = march[0].vendor_id
    payout = Payout(vendor_id=vendor_id, amount=Decimal("1.00"), status="paid")
    db.session.add(payout)
    db.session.flush()
    pay_everything()
    db.session.execute(
        sa.text("UPDATE commission_records SET payout_id = :p WHERE refund_id IS NULL"),
        {"p": payout.id},
    )
    sales = scalar_row(
        "SELECT count(*), sum(commission_amount) FROM commission_records WHERE payout_id = :p",
        p=payout.id,
    )

    with run() as r:
        commission_retention.aggregate_old_commissions(r, before=APRIL)

    (line,) = commission_retention.aggregated_payout_records(payout.id)
    assert (line.year, line.month, line.record_count, line.total_amount) == (2024, 3, *sales)


# --- orders ---------------------------------------------------------------------------------

FIGURES = {
    "orders": "SELECT count(*), sum(total), sum(refunded_amount) FROM orders WHERE id IN :ids",
    "order_items": "SELECT count(*), sum(line_total) FROM order_items WHERE order_id IN :ids",
    "order_refunds": "SELECT count(*), sum(amount) FROM order_refunds WHERE order_id IN :ids",
    "vendor_platform_fees": (
        "SELECT count(*), sum(fee_amount) FROM vendor_platform_fees WHERE order_id IN :ids"
    ),
    "delivery_assignments": (
        "SELECT count(*), sum(customer_delivery_fee) FROM delivery_assignments "
        "WHERE order_id IN :ids"
    ),
    "order_holds": "SELECT count(*), count(*) FROM order_holds WHERE order_id IN :ids",
    "order_external_refs": "SELECT count(*), count(*) FROM order_external_refs "
    "WHERE order_id IN :ids",
}

ARCHIVED = {
    "orders": (
        "SELECT count(*), sum(total), sum(refunded_amount) FROM archived_orders WHERE id IN :ids"
    ),
    "order_items": "SELECT count(*), sum((row_data->>'line_total')::numeric) "
    "FROM archived_order_rows WHERE source_table = 'order_items' AND order_id IN :ids",
    "order_refunds": "SELECT count(*), sum((row_data->>'amount')::numeric) "
    "FROM archived_order_rows WHERE source_table = 'order_refunds' AND order_id IN :ids",
    "vendor_platform_fees": "SELECT count(*), sum((row_data->>'fee_amount')::numeric) "
    "FROM archived_order_rows WHERE source_table = 'vendor_platform_fees' AND order_id IN :ids",
    "delivery_assignments": "SELECT count(*), sum((row_data->>'customer_delivery_fee')::numeric) "
    "FROM archived_order_rows WHERE source_table = 'delivery_assignments' AND order_id IN :ids",
    "order_holds": "SELECT count(*), count(*) FROM archived_order_rows "
    "WHERE source_table = 'order_holds' AND order_id IN :ids",
    "order_external_refs": "SELECT count(*), count(*) FROM archived_order_rows "
    "WHERE source_table = 'order_external_refs' AND order_id IN :ids",
}

LEDGERS = {
    "points": "SELECT count(*), sum(amount) FROM points_transactions",
    "earnings": "SELECT count(*), sum(amount), sum(pay), sum(tip) FROM driver_earnings",
}


def live(placed):
    return {table: q(query, placed) for table, query in FIGURES.items()}


def archived(placed):
    return {table: q(query, placed) for table, query in ARCHIVED.items()}


def ledgers():
    return {name: scalar_row(query) for name, query in LEDGERS.items()}


@pytest.fixture
def aggregated(march):
    pay_everything()
    with run() as r:
        commission_retention.aggregate_old_commissions(r, before=APRIL)
    return march


def test_every_referencing_table_has_a_rule(db_session):
    order_archive.check_rules()


def test_a_month_whose_commission_records_remain_is_kept(march):
    with run() as r:
        (report,) = order_archive.archive_old_orders(r, before=APRIL)

    assert report.kept_because == "5 commission records still reference its orders"
    assert partition_exists("orders_2024_03")


def test_dry_run_counts_and_changes_nothing(aggregated):
    before = live(aggregated)

    with run(dry_run=True) as r:
        (report,) = order_archive.archive_old_orders(r, before=APRIL)

    assert report.orders == 3 and report.rows["order_items"] == 6
    assert report.rows["points_transactions"] == 3 and report.rows["driver_earnings"] == 3
    assert live(aggregated) == before
    assert partition_exists("orders_2024_03")


def test_a_month_moves_whole_to_the_archive_with_its_money(aggregated):
    before = live(aggregated)
    ledgers_before = ledgers()
    assert before["orders"] == (3, Decimal("142.44"), Decimal("57.48"))

    with run() as r:
        (report,) = order_archive.archive_old_orders(r, before=APRIL)

    assert report.kept_because is None and report.detach_ms is not None
    assert not partition_exists("orders_2024_03")
    assert archived(aggregated) == before
    assert all(figures[0] == 0 for figures in live(aggregated).values())
    # The ledgers keep every row and amount; only their references went.
    assert ledgers() == ledgers_before
    assert scalar_row(
        "SELECT count(*) FROM points_transactions WHERE created_at < '2024-04-01' "
        "AND order_id IS NULL"
    ) == (3,)
    assert scalar_row("SELECT count(*) FROM driver_earnings WHERE delivery_id IS NULL") == (3,)


def test_a_second_run_changes_nothing(aggregated):
    with run() as r:
        order_archive.archive_old_orders(r, before=APRIL)
    after = archived(aggregated)

    with run() as again:
        assert order_archive.archive_old_orders(again, before=APRIL) == []
    assert archived(aggregated) == after


def test_a_month_a_killed_run_copied_but_did_not_detach_is_finished_once(aggregated):
    before = live(aggregated)
    # What a run killed after its copy's commit had done: every rule applied, orders copied.
    with run() as r:
        for rule in order_archive.RULES:
            order_archive._apply(rule, "orders_2024_03")
        order_archive._copy_orders("orders_2024_03")
        db.session.commit()

        (report,) = order_archive.archive_old_orders(r, before=APRIL)

    assert report.kept_because is None
    assert not partition_exists("orders_2024_03")
    assert archived(aggregated) == before  # nothing twice


def test_a_month_a_killed_run_detached_but_did_not_drop_is_dropped(aggregated):
    before = live(aggregated)
    with run() as r:
        for rule in order_archive.RULES:
            order_archive._apply(rule, "orders_2024_03")
        order_archive._copy_orders("orders_2024_03")
        retiring.detach("orders", "orders_2024_03")
        assert [p.name for p in retiring.detached_leftovers("orders")] == ["orders_2024_03"]

        (report,) = order_archive.archive_old_orders(r, before=APRIL)

    assert report.finished_leftover
    assert not partition_exists("orders_2024_03")
    assert archived(aggregated) == before


def test_the_retention_window_ends_with_whole_months():
    assert retiring.first_kept_month(24, date(2026, 12, 4)) == Period(2024, 12)
    assert retiring.first_kept_month(12, date(2026, 1, 31)) == Period(2025, 1)


# --- the pages that show history ------------------------------------------------------------


@pytest.fixture
def archived_month(aggregated):
    with run() as r:
        order_archive.archive_old_orders(r, before=APRIL)
    return aggregated


def test_the_customer_sees_archived_orders_from_the_archive(client, auth, people, archived_month):
    auth.login(people["customer"].email)

    html = client.get("/account/").get_data(as_text=True)

    assert "Older orders, from the archive" in html
    assert html.count("Corner Shop") >= 3
    assert "$47.48" in html


def test_the_statement_shows_summarised_months(client, auth, people, aggregated):
    auth.login(people["vendor"].email)
    (total,) = scalar_row("SELECT sum(total_amount) FROM commission_summaries")

    html = client.get("/vendor/commissions/").get_data(as_text=True)

    assert "Months summarised after a year" in html
    assert "Mar 2024" in html or "March 2024" in html
    assert f"${total}" in html


# --- the commands ---------------------------------------------------------------------------


def test_the_commands_dry_run_says_what_they_would_do_and_change_nothing(app, march):
    runner = app.test_cli_runner()

    commissions = runner.invoke(args=["ops", "aggregate-commissions", "--dry-run"])
    archive = runner.invoke(args=["ops", "archive-orders", "--dry-run"])

    assert commissions.exit_code == 0, commissions.output
    assert "would aggregate 0 months of commission records; 1 kept" in commissions.output
    assert "commission_records_2024_03: kept, 3 records still owed" in commissions.output
    assert archive.exit_code == 0, archive.output
    assert "orders_2024_03: kept (5 commission records still reference its orders)" in (
        archive.output
    )
    assert partition_exists("orders_2024_03") and partition_exists("commission_records_2024_03")


def test_the_mail_folder_loses_only_old_messages(app, db_session, tmp_path, monkeypatch):
    import os

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path))
    old, new = tmp_path / "old.eml", tmp_path / "new.eml"
    old.write_text("x")
    new.write_text("y")
    long_ago = time_ago_days(app.config["MAIL_FOLDER_RETENTION_DAYS"] + 1)
    os.utime(old, (long_ago, long_ago))
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["ops", "prune-mail-folder", "--dry-run"])
    assert "would delete 1 stored mail messages" in dry.output and old.exists()

    done = runner.invoke(args=["ops", "prune-mail-folder"])
    assert "deleted 1 stored mail messages" in done.output
    assert not old.exists() and new.exists()


def time_ago_days(days: int) -> float:
    import time

    return time.time() - days * 86400


def test_the_operations_page_reports_a_kept_commission_month(client, auth, march):
    from portal.periods import Period as Month

    auth.login(make_admin().email)

    html = client.get("/admin/operations").get_data(as_text=True)

    assert 'id="kept-months"' in html
    assert str(Month(2024, 3)) in html and "3 records still owed" in html


def test_the_payout_page_lists_the_months_its_records_were_aggregated_into(
    client, auth, people, march
):
    from portal.payouts.models import Payout

    payout = Payout(vendor_id=march[0].vendor_id, amount=Decimal("1.00"), status="paid")
    db.session.add(payout)
    db.session.flush()
    pay_everything()
    db.session.execute(sa.text("UPDATE commission_records SET payout_id = :p"), {"p": payout.id})
    (count, total) = scalar_row(
        "SELECT count(*), sum(commission_amount) FROM commission_records WHERE payout_id = :p",
        p=payout.id,
    )
    with run() as r:
        commission_retention.aggregate_old_commissions(r, before=APRIL)
    auth.login(people["vendor"].email)

    html = client.get(f"/vendor/payouts/{payout.id}").get_data(as_text=True)

    assert "Older records of this payout were summarised by month" in html
    assert f"Mar 2024: {count} records, ${total} commission" in html
