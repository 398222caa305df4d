"""The Alembic chain, on a scratch database it creates and drops itself.

Upgrading an empty database must build the whole designed schema, the models and the migrations must
agree (autogenerate finds nothing to do, even with partitions present), and downgrading must leave
no portal table behind.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from portal import ROOT, create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.operations.partitions import ensure_partitions

MIGRATIONS = str(ROOT / "migrations")

DESIGNED_TABLES = {
    "shop_tiers",
    "commission_records",
    "drivers",
    "delivery_assignments",
    "vendor_platform_fees",
    "shop_referrals",
    "vendor_monthly_volumes",
    "points_balances",
    "points_transactions",
    "master_products",
    "vendor_product_mappings",
    "connected_accounts",
    "payouts",
    "product_obfuscations",
    "commission_summaries",
    "archived_orders",
}
CORE_TABLES = {
    "users",
    "vendors",
    "vendor_members",
    "customers",
    "brands",
    "product_categories",
    "products",
    "orders",
    "order_items",
    "order_external_refs",
}
PARTITIONED = {"orders", "commission_records", "points_transactions"}


def admin_dsn(url: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def scratch_app():
    """An app over a fresh, empty database of its own, dropped afterwards."""
    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    url = url.set(database=f"{url.database}_migrations")
    rendered = url.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn(rendered), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": rendered})
    yield app
    with app.app_context():
        db.engine.dispose()
    with psycopg.connect(admin_dsn(rendered), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def public_tables() -> set[str]:
    return set(
        db.session.scalars(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    )


def index_definitions() -> dict[str, str]:
    rows = db.session.execute(
        sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    )
    return dict(rows.tuples().all())


def test_upgrade_builds_and_downgrade_removes_the_schema(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS, revision="head")

        tables = public_tables()
        assert tables >= DESIGNED_TABLES | CORE_TABLES
        assert set(db.metadata.tables) <= tables
        assert {f"{name}_default" for name in PARTITIONED} <= tables

        partitioned = set(
            db.session.scalars(
                sa.text("SELECT partrelid::regclass::text FROM pg_partitioned_table")
            )
        )
        assert partitioned == PARTITIONED

        indexes = index_definitions()
        assert "USING gist (current_location)" in indexes["idx_driver_location"]
        assert "WHERE ((status)::text = 'available'::text)" in indexes["idx_driver_status"]
        assert "WHERE ((status)::text = 'pending'::text)" in indexes["idx_commission_status"]
        assert "(shop_id, created_at DESC)" in indexes["idx_commission_shop_date"]
        assert "WHERE (order_id IS NOT NULL)" in indexes["idx_points_order"]
        assert "(vendor_id, year DESC, month DESC)" in indexes["idx_volume_vendor_date"]
        assert "idx_referrals_session" in indexes

        constraints = set(
            db.session.scalars(sa.text("SELECT conname FROM pg_constraint WHERE contype = 'u'"))
        )
        assert {
            "unique_shop_tier",
            "unique_vendor_month",
            "unique_customer_balance",
            "unique_vendor_product",
            "unique_vendor_account",
            "unique_product_obfuscation",
        } <= constraints

        # With real partitions (and the foreign keys PostgreSQL clones onto them) in place, the
        # models and the migrations still agree: autogenerate would write an empty revision.
        ensure_partitions()
        db.session.commit()
        config = current_app.extensions["migrate"].migrate.get_config(MIGRATIONS)
        command.check(config)

        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")

        assert public_tables() & (DESIGNED_TABLES | CORE_TABLES | set(db.metadata.tables)) == set()
        assert not {name for name in public_tables() if name.startswith(tuple(PARTITIONED))}


BEFORE_NUMBERS = "cbf643b2000b"  # the revision before shop order numbers (0012)
SHOPS = ("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222")


def test_the_numbers_migration_numbers_existing_orders_and_builds_the_totals(scratch_app):
    """Orders placed before 0012 are numbered per shop by time, then id; each shop's counter
    continues after its last; the statement totals come out of the records already there."""
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE_NUMBERS)
        run = db.session.execute
        for n, shop in enumerate(SHOPS):
            run(
                sa.text("INSERT INTO vendors (id, name, slug) VALUES (:id, :name, :slug)"),
                {"id": shop, "name": f"Shop {n}", "slug": f"shop-{n}"},
            )
        # (shop, id's last digit, placed): shop 0 has two orders in one second, listed by id.
        placed = [
            (0, "3", "2026-10-02 09:00"),
            (0, "1", "2026-10-01 08:00"),
            (1, "2", "2026-10-01 07:00"),
            (0, "2", "2026-10-02 09:00"),
        ]
        for shop, last, at in placed:
            run(
                sa.text(
                    "INSERT INTO orders (id, checkout_id, vendor_id, subtotal, total, created_at) "
                    "VALUES (:id, gen_random_uuid(), :shop, 10, 10, :at)"
                ),
                {
                    "id": f"00000000-0000-0000-000{shop}-00000000000{last}",
                    "shop": SHOPS[shop],
                    "at": at,
                },
            )
        order = "00000000-0000-0000-0000-000000000001"
        run(
            sa.text(
                "INSERT INTO commission_records (order_id, order_created_at, shop_id, "
                "commission_rate, order_amount, commission_amount, created_at) "
                "VALUES (:o, '2026-10-01 08:00', :shop, 0.15, 10, 1.50, '2026-10-01 08:05')"
            ),
            {"o": order, "shop": SHOPS[0]},
        )
        run(
            sa.text(
                "INSERT INTO vendor_platform_fees (vendor_id, order_id, order_created_at, "
                "vendor_type, fee_percentage, order_amount, fee_amount) "
                "VALUES (:shop, :o, '2026-10-01 08:00', 'shop', 0.029, 10, 0.29)"
            ),
            {"o": order, "shop": SHOPS[0]},
        )
        db.session.commit()

        upgrade(directory=MIGRATIONS, revision="head")

        numbered = run(
            sa.text(
                "SELECT vendor_id::text, right(id::text, 1), number FROM orders "
                "ORDER BY vendor_id, number"
            )
        ).all()
        assert numbered == [
            (SHOPS[0], "1", 1001),
            (SHOPS[0], "2", 1002),
            (SHOPS[0], "3", 1003),
            (SHOPS[1], "2", 1001),
        ]
        claimed = run(
            sa.text(
                "SELECT vendor_id::text, number, right(order_id::text, 1) "
                "FROM vendor_order_numbers ORDER BY vendor_id, number"
            )
        ).all()
        assert claimed == [(shop, number, last) for shop, last, number in numbered]
        counters = dict(
            run(sa.text("SELECT vendor_id::text, last_number FROM vendor_order_counters")).all()
        )
        assert counters == {SHOPS[0]: 1003, SHOPS[1]: 1001}
        totals = run(
            sa.text(
                "SELECT status, record_count, commission_total, amount_total, fee_total "
                "FROM vendor_commission_totals WHERE shop_id = :shop"
            ),
            {"shop": SHOPS[0]},
        ).all()
        assert [tuple(map(str, row)) for row in totals] == [
            ("pending", "1", "1.50", "10.00", "0.29")
        ]
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
