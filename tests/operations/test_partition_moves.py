"""Creating a period whose rows already sit in the default partition moves them, and their kin.

The orders are written before their month's partition exists (2041 is past every partition the
suite made), with items, an external ref, a refund, commission and fee rows (sale and reversal),
a delivery and points rows. Creating the period moves them into the new partitions; every figure
read before the move is read again after it, from the same queries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal.customers.models import Customer
from portal.deliveries.models import DeliveryAssignment
from portal.extensions import db
from portal.loyalty.models import PointsTransaction
from portal.operations import partitions
from portal.operations.jobs import ensure_partitions_job
from portal.operations.partitions import ensure_partitions
from portal.orders import services as orders
from portal.orders.completion import hold_order
from portal.vendors.services import vendor_for_user
from tests.database import empty_all_tables
from tests.factories import make_admin, make_customer, make_vendor

TODAY = date(2041, 3, 14)
APRIL = datetime(2041, 4, 10, 9, 30, tzinfo=UTC)

# Every table that points at an order or at a row that does, with the money it carries.
FIGURES = {
    "orders": "SELECT count(*), sum(total), sum(refunded_amount) FROM orders WHERE {orders}",
    "order_items": "SELECT count(*), sum(line_total) FROM order_items WHERE order_id IN {ids}",
    "order_external_refs": "SELECT count(*) FROM order_external_refs WHERE order_id IN {ids}",
    "order_refunds": "SELECT count(*), sum(amount) FROM order_refunds WHERE order_id IN {ids}",
    "commission_records": (
        "SELECT count(*), sum(commission_amount), count(refund_id) FROM commission_records "
        "WHERE order_id IN {ids}"
    ),
    "vendor_platform_fees": (
        "SELECT count(*), sum(fee_amount), count(refund_id) FROM vendor_platform_fees "
        "WHERE order_id IN {ids}"
    ),
    "delivery_assignments": (
        "SELECT count(*), sum(customer_delivery_fee) FROM delivery_assignments "
        "WHERE order_id IN {ids}"
    ),
    "order_holds": "SELECT count(*) FROM order_holds WHERE order_id IN {ids}",
    "points_transactions": (
        "SELECT count(*), sum(amount) FROM points_transactions WHERE order_id IN {ids}"
    ),
    "vendor_commission_totals": (
        "SELECT count(*), sum(commission_total), sum(record_count) FROM vendor_commission_totals"
    ),
}


@pytest.fixture(autouse=True)
def periods_ahead(app, monkeypatch):
    monkeypatch.setitem(app.config, "PARTITION_MONTHS_AHEAD", 2)
    monkeypatch.setitem(app.config, "PARTITION_YEARS_AHEAD", 1)


def sell(vendor_id, customer_id, *, refund: str | None = None, external_id: str | None = None):
    """A paid April order of two lines, optionally refunded in part, with a delivery and points."""
    order = orders.place_order(
        vendor_id=vendor_id,
        customer_id=customer_id,
        items=[
            orders.LineItem(title="Notebook", quantity=3, unit_price=Decimal("12.50")),
            orders.LineItem(title="Pen", quantity=1, unit_price=Decimal("4.99")),
        ],
        delivery_fee=Decimal("4.99"),
        placed_at=APRIL,
        source="storefront" if external_id else "portal",
        external_id=external_id,
    )
    orders.mark_paid(order, datetime(2041, 4, 10, 10, 0, tzinfo=UTC))
    if refund:
        orders.refund_order(
            order, Decimal(refund), f"r-{order.id}", at=datetime(2041, 4, 12, tzinfo=UTC)
        )
    db.session.add(
        DeliveryAssignment(
            order_id=order.id,
            order_created_at=order.created_at,
            provider="internal",
            pickup_address={"line1": "1 Shop St"},
            dropoff_address={"line1": "2 Home Ave"},
            customer_delivery_fee=Decimal("4.99"),
            created_at=APRIL,
            updated_at=APRIL,
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
            created_at=datetime(2041, 4, 10, 10, 0, tzinfo=UTC),
        )
    )
    db.session.flush()
    return order


def held(order):
    """An admin's hold on the order (order_holds references orders too)."""
    hold_order(
        order, "customer dispute", held_by=make_admin(), at=datetime(2041, 4, 20, tzinfo=UTC)
    )
    return order


@pytest.fixture
def april_orders(db_session):
    vendor = vendor_for_user(make_vendor())
    customer = db.session.scalar(sa.select(Customer).where(Customer.user_id == make_customer().id))
    return [
        held(sell(vendor.id, customer.id)),
        sell(vendor.id, customer.id, refund="10.00", external_id=f"ext-{uuid.uuid4().hex}"),
        sell(vendor.id, customer.id, refund="42.48"),  # all of it: subtotal + delivery
    ]


def figures(placed) -> dict[str, tuple]:
    ids = "(" + ", ".join(f"'{order.id}'" for order in placed) + ")"
    where = {"ids": ids, "orders": f"id IN {ids}"}
    return {
        table: tuple(db.session.execute(sa.text(query.format(**where))).one())
        for table, query in FIGURES.items()
    }


def partitions_holding(table: str, column: str, placed) -> set[str]:
    return set(
        db.session.scalars(
            sa.text(
                f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE {column} IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": [order.id for order in placed]},
        )
    )


def test_default_rows_move_with_everything_that_references_them(april_orders):
    before = figures(april_orders)
    assert before["orders"][0] == 3
    assert before["order_refunds"] == (2, Decimal("52.48"))
    assert before["commission_records"][2] == 2  # the reversal rows point at their refunds
    assert before["order_holds"] == (1,)
    assert partitions_holding("orders", "id", april_orders) == {"orders_default"}
    assert partitions_holding("commission_records", "order_id", april_orders) == {
        "commission_records_default"
    }

    created = ensure_partitions(TODAY)

    assert {"orders_2041_04", "commission_records_2041_04", "points_transactions_2041"} <= set(
        created
    )
    assert figures(april_orders) == before
    assert partitions_holding("orders", "id", april_orders) == {"orders_2041_04"}
    assert partitions_holding("commission_records", "order_id", april_orders) == {
        "commission_records_2041_04"
    }
    assert partitions_holding("points_transactions", "order_id", april_orders) == {
        "points_transactions_2041"
    }
    # The ORM still finds every order whole.
    db.session.expire_all()
    for order in april_orders:
        again = db.session.get(type(order), order.id)
        assert len(again.items) == 2


def test_a_second_run_moves_nothing_and_changes_nothing(april_orders):
    ensure_partitions(TODAY)
    after_first = figures(april_orders)

    assert ensure_partitions(TODAY) == []
    assert figures(april_orders) == after_first


def test_the_job_moves_each_period_in_its_own_transaction(april_orders, monkeypatch):
    monkeypatch.setattr(partitions, "utc_today", lambda: TODAY)
    before = figures(april_orders)

    created = ensure_partitions_job()

    assert "orders_2041_04" in created
    assert figures(april_orders) == before
    assert partitions_holding("orders", "id", april_orders) == {"orders_2041_04"}
    assert ensure_partitions_job() == []


def test_rows_of_other_periods_stay_in_the_default(april_orders):
    vendor_id = april_orders[0].vendor_id
    customer_id = april_orders[0].customer_id
    later = orders.place_order(
        vendor_id=vendor_id,
        customer_id=customer_id,
        items=[orders.LineItem(title="Later", quantity=1, unit_price=Decimal("1.00"))],
        placed_at=datetime(2045, 1, 1, tzinfo=UTC),
    )

    ensure_partitions(TODAY)

    assert partitions_holding("orders", "id", [later]) == {"orders_default"}
    assert partitions_holding("orders", "id", april_orders) == {"orders_2041_04"}


def test_the_command_creates_and_moves_then_has_nothing_left_to_do(app, april_orders, monkeypatch):
    monkeypatch.setattr(partitions, "utc_today", lambda: TODAY)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["partitions", "ensure"])

    assert first.exit_code == 0, first.output
    assert "created orders_2041_04" in first.output
    assert partitions_holding("orders", "id", april_orders) == {"orders_2041_04"}
    again = runner.invoke(args=["partitions", "ensure"])
    assert again.output.strip() == "Every partition already exists."


@pytest.fixture
def committed_order(app):
    """An order of April 2077 committed to the default partition; every table emptied after."""
    with app.app_context():
        vendor = vendor_for_user(make_vendor())
        order = orders.place_order(
            vendor_id=vendor.id,
            items=[orders.LineItem(title="Far", quantity=1, unit_price=Decimal("3.00"))],
            placed_at=datetime(2077, 4, 2, tzinfo=UTC),
        )
        order_id = order.id
        db.session.commit()
        db.session.close()  # no open transaction of ours may hold a lock the move waits for
        yield order_id
        db.session.rollback()
        empty_all_tables()


def test_intake_waits_while_a_move_is_under_way(app, committed_order):
    dsn = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    dsn = dsn.render_as_string(hide_password=False)
    with psycopg.connect(dsn) as mover, psycopg.connect(dsn) as intake:
        mover.execute("SELECT * FROM portal_create_partition('orders', 'month', '2077-04-01')")
        intake.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            # What orders.services.lock_order does before a refund.
            intake.execute(
                "SELECT id FROM orders WHERE id = %s FOR UPDATE", (committed_order,)
            ).fetchall()
        mover.rollback()  # nothing of the move stays
        intake.rollback()
        still = intake.execute(
            "SELECT tableoid::regclass::text FROM orders WHERE id = %s", (committed_order,)
        ).fetchone()
    assert still == ("orders_default",)
