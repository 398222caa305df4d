"""The partition manager, against the test database.

PostgreSQL DDL is transactional, so the partitions a test creates are rolled back with it. The
suite's start-up already made the partitions around today, so these tests work in 2041 and later.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.operations import partitions
from portal.operations.jobs import ensure_partitions_job
from portal.operations.partitions import (
    PARTITIONED_TABLES,
    ensure_partitions,
    is_partition_name,
    list_partitions,
)
from portal.orders import numbers
from portal.orders.models import Order
from portal.vendors.models import Vendor

TODAY = date(2041, 3, 14)


@pytest.fixture(autouse=True)
def periods_ahead(app, monkeypatch):
    """Two months and one year ahead, whatever the environment configures."""
    monkeypatch.setitem(app.config, "PARTITION_MONTHS_AHEAD", 2)
    monkeypatch.setitem(app.config, "PARTITION_YEARS_AHEAD", 1)


def bounds_of(partition: str) -> str | None:
    return db.session.scalar(
        sa.text(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class "
            "WHERE relname = :name AND relispartition"
        ),
        {"name": partition},
    )


def place_order(created_at: datetime) -> Order:
    vendor = Vendor(name="Partition Shop", slug=f"partition-shop-{uuid.uuid4().hex[:8]}")
    db.session.add(vendor)
    db.session.flush()
    order = Order(
        checkout_id=uuid.uuid4(),
        vendor=vendor,
        number=numbers.next_number(vendor.id),
        subtotal=Decimal("10.00"),
        total=Decimal("10.00"),
        created_at=created_at,
    )
    db.session.add(order)
    db.session.flush()
    return order


def partition_holding(order: Order) -> str:
    return db.session.scalar(
        sa.text("SELECT tableoid::regclass::text FROM orders WHERE id = :id"), {"id": order.id}
    )


def test_creates_the_current_period_and_the_periods_ahead(db_session):
    created = ensure_partitions(TODAY)

    assert created == [
        "orders_2041_03",
        "orders_2041_04",
        "orders_2041_05",
        "commission_records_2041_03",
        "commission_records_2041_04",
        "commission_records_2041_05",
        "points_transactions_2041",
        "points_transactions_2042",
    ]
    assert bounds_of("orders_2041_03") == (
        "FOR VALUES FROM ('2041-03-01 00:00:00') TO ('2041-04-01 00:00:00')"
    )
    assert bounds_of("commission_records_2041_05") == (
        "FOR VALUES FROM ('2041-05-01 00:00:00') TO ('2041-06-01 00:00:00')"
    )
    assert bounds_of("points_transactions_2042") == (
        "FOR VALUES FROM ('2042-01-01 00:00:00') TO ('2043-01-01 00:00:00')"
    )


def test_months_ahead_run_across_the_new_year(db_session):
    created = ensure_partitions(date(2041, 11, 30))

    assert [name for name in created if name.startswith("orders_")] == [
        "orders_2041_11",
        "orders_2041_12",
        "orders_2042_01",
    ]
    assert bounds_of("orders_2041_12") == (
        "FOR VALUES FROM ('2041-12-01 00:00:00') TO ('2042-01-01 00:00:00')"
    )


def test_running_twice_creates_nothing_the_second_time(db_session):
    assert ensure_partitions(TODAY)
    assert ensure_partitions(TODAY) == []


def test_a_row_beyond_every_partition_lands_in_the_default(db_session):
    ensure_partitions(TODAY)

    order = place_order(datetime(2099, 6, 1, 12, 0, tzinfo=UTC))

    assert partition_holding(order) == "orders_default"


def test_a_row_lands_in_its_months_partition(db_session):
    ensure_partitions(TODAY)

    order = place_order(datetime(2041, 4, 30, 23, 59, 59, tzinfo=UTC))

    assert partition_holding(order) == "orders_2041_04"


def test_since_back_fills_every_period_up_to_now(db_session):
    created = ensure_partitions(TODAY, since=date(2040, 11, 20))

    assert created[:5] == [
        "orders_2040_11",
        "orders_2040_12",
        "orders_2041_01",
        "orders_2041_02",
        "orders_2041_03",
    ]
    assert "commission_records_2040_11" in created
    assert "points_transactions_2040" in created
    assert bounds_of("orders_2040_12") == (
        "FOR VALUES FROM ('2040-12-01 00:00:00') TO ('2041-01-01 00:00:00')"
    )


def test_a_period_whose_rows_sit_in_the_default_is_created_and_the_rows_moved(db_session, caplog):
    early = place_order(datetime(2041, 4, 10, 9, 30, tzinfo=UTC))  # before its partition exists

    with caplog.at_level(logging.WARNING, logger=partitions.__name__):
        created = ensure_partitions(TODAY)

    assert {"orders_2041_03", "orders_2041_04", "orders_2041_05"} <= set(created)
    assert partition_holding(early) == "orders_2041_04"
    assert any("moved 1 rows" in record.getMessage() for record in caplog.records)
    assert partition_holding(place_order(datetime(2041, 4, 2, tzinfo=UTC))) == "orders_2041_04"


def test_list_partitions_shows_bounds_and_rows(db_session):
    ensure_partitions(TODAY)
    place_order(datetime(2041, 3, 20, tzinfo=UTC))

    listed = {partition.name: partition for partition in list_partitions()}

    march = listed["orders_2041_03"]
    assert march.table == "orders"
    assert march.bounds == "FOR VALUES FROM ('2041-03-01 00:00:00') TO ('2041-04-01 00:00:00')"
    assert (march.rows, march.rows_exact, march.is_default) == (1, True, False)
    for table in PARTITIONED_TABLES:
        assert listed[table.default_partition].is_default
    names = list(listed)
    assert names.index("orders_2041_03") < names.index("orders_default")
    assert names.index("orders_default") < names.index("commission_records_2041_03")


def test_the_job_creates_the_partitions_and_commits(db_session, monkeypatch):
    monkeypatch.setattr(partitions, "utc_today", lambda: TODAY)

    created = ensure_partitions_job()

    assert "orders_2041_03" in created
    assert bounds_of("orders_2041_03") is not None
    assert ensure_partitions_job() == []


@pytest.mark.parametrize(
    ("name", "managed"),
    [
        ("orders_2041_03", True),
        ("commission_records_default", True),
        ("points_transactions_2041", True),
        ("orders", False),
        ("order_items", False),
        ("orders_archive", False),
    ],
)
def test_is_partition_name(name, managed):
    assert is_partition_name(name) is managed
