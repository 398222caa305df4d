"""Generate a large, realistic data set in a separate database for the benchmarks.

    .venv/bin/python -m bench.generate                      # 10,000 vendors, 1,000,000 orders
    .venv/bin/python -m bench.generate --months 2           # 2,000,000 orders over two months

The database (default ``portal_bench``) is dropped and created, migrated with Alembic, and given its
partitions by the project's partition manager before any row goes in. Every table is filled with
set-based ``INSERT ... SELECT generate_series`` statements, never row by row (each shop's order
numbers too: a window over the month's new orders, after the shop's counter). Orders fall in the
``--months`` calendar months that end with the last finished one (October 2026 when run in November
2026), ``--orders`` per month, spread over the vendors unevenly (a few big shops, a long tail), so
the close sees every tier. See bench/README.md.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from portal import create_app
from portal.clock import utcnow
from portal.extensions import db
from portal.periods import Period
from portal.tiers.close import rebuild_month_volumes

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench"
#: Every generated user signs in with this password.
BENCH_PASSWORD = "bench password"
# Share of orders by status, cumulative: mostly completed, a few unpaid, canceled or refunded.
STATUS_SHARES = (
    ("pending", 0.04),
    ("canceled", 0.08),
    ("paid", 0.14),
    ("fulfilled", 0.18),
    ("delivered", 0.26),
    ("completed", 0.93),
    ("partially_refunded", 0.97),
    ("refunded", 1.00),
)
PAID_STATUSES = tuple(
    status for status, _ in STATUS_SHARES if status not in ("pending", "canceled")
)


def bench_app(database_url: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url})


def months_ending_last_finished(count: int, today: date) -> list[Period]:
    """The ``count`` calendar months before the one ``today`` is in, oldest first."""
    return Period.containing(today).previous().last(count)


class Steps:
    """Runs and times each step, committing after it."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def run(self, label: str, sql: str, params: dict | None = None) -> int:
        began = time.monotonic()
        # Bulk load: foreign-key triggers off for this statement (the rows are consistent by
        # construction); a check per row on the partitioned orders would take minutes.
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        rows = db.session.execute(sa.text(sql), params or {}).rowcount
        db.session.commit()
        print(f"  {label:<46} {rows:>10,} rows  {time.monotonic() - began:6.1f} s", flush=True)
        return rows


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (never the app's own: the name is checked)."""
    import psycopg

    parsed = make_url(url)
    if "bench" not in (parsed.database or ""):
        raise SystemExit(f"refusing to recreate {parsed.database!r}: not a benchmark database")
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def create_schema(app: Flask, first_month: date) -> None:
    from flask_migrate import upgrade

    from portal.operations.partitions import ensure_partitions

    recreate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        upgrade()
        created = ensure_partitions(since=first_month)
        db.session.commit()
    print(f"  migrated; partitions created: {len(created)}")


def generate_people(steps: Steps, vendors: int, customers: int) -> None:
    """Vendor users, shops (mixed types), owners and customers; ids derive from a number."""
    steps.run(
        "users (vendors and customers)",
        """
        INSERT INTO users (id, email, password_hash, role, created_at)
        SELECT md5('vendor-user' || i)::uuid, 'vendor' || i || '@bench.example', :hash, 'vendor',
               now() - interval '400 days'
        FROM generate_series(1, :vendors) i
        UNION ALL
        SELECT md5('customer-user' || i)::uuid, 'customer' || i || '@bench.example', :hash,
               'customer', now() - interval '400 days'
        FROM generate_series(1, :customers) i
        """,
        {
            "hash": generate_password_hash(BENCH_PASSWORD),
            "vendors": vendors,
            "customers": customers,
        },
    )
    steps.run(
        "vendors (60% shop, 30% restaurant, 10% grocery)",
        """
        INSERT INTO vendors (id, name, slug, vendor_type, referral_code, status, contact_email,
                             created_at, updated_at)
        SELECT md5('vendor' || i)::uuid, 'Bench Shop ' || i, 'bench-shop-' || i,
               CASE WHEN i % 10 < 6 THEN 'shop'
                    WHEN i % 10 < 9 THEN 'restaurant' ELSE 'grocery' END,
               'B' || i, 'active', 'vendor' || i || '@bench.example',
               now() - interval '400 days', now() - interval '400 days'
        FROM generate_series(1, :vendors) i
        """,
        {"vendors": vendors},
    )
    steps.run(
        "vendor owners",
        """
        INSERT INTO vendor_members (vendor_id, user_id, role)
        SELECT md5('vendor' || i)::uuid, md5('vendor-user' || i)::uuid, 'owner'
        FROM generate_series(1, :vendors) i
        """,
        {"vendors": vendors},
    )
    steps.run(
        "customers",
        """
        INSERT INTO customers (id, user_id, full_name)
        SELECT md5('customer' || i)::uuid, md5('customer-user' || i)::uuid, 'Bench Customer ' || i
        FROM generate_series(1, :customers) i
        """,
        {"customers": customers},
    )
    steps.run(
        "shop tiers",
        "INSERT INTO shop_tiers (shop_id, tier, commission_rate) "
        "SELECT id, 'bronze', 0.15 FROM vendors",
    )
    reset_shop_tiers()


def reset_shop_tiers(now: datetime | None = None) -> None:
    """The tiers before any close: a mix of earned tiers and 2% promotions, half of them over.

    Used by the generator and again by the close benchmark before each measurement, so every
    measurement starts from the same state.
    """
    now = now or utcnow()
    config = current_app.config["TIER_COMMISSION_RATES"]
    db.session.execute(
        sa.text(
            """
            UPDATE shop_tiers st SET
                earned_tier = t.tier, tier = CASE WHEN t.promoted THEN 'gold' ELSE t.tier END,
                commission_rate = CASE WHEN t.promoted OR t.tier = 'gold' THEN :gold
                                       WHEN t.tier = 'silver' THEN :silver ELSE :bronze END,
                is_promotional = t.promoted,
                promotional_reason = CASE WHEN t.promoted THEN 'launch' END,
                promotional_expires_at = CASE WHEN NOT t.promoted THEN NULL
                                              WHEN t.n % 100 = 1 THEN :expired ELSE :running END,
                monthly_sales = 0
            FROM (
                SELECT v.id,
                       substr(v.slug, 12)::int AS n,
                       CASE WHEN substr(v.slug, 12)::int % 31 = 0 THEN 'gold'
                            WHEN substr(v.slug, 12)::int % 7 = 0 THEN 'silver'
                            ELSE 'bronze' END AS tier,
                       substr(v.slug, 12)::int % 50 = 1 AS promoted
                FROM vendors v
            ) t
            WHERE st.shop_id = t.id
            """
        ),
        {
            "gold": config["gold"],
            "silver": config["silver"],
            "bronze": config["bronze"],
            "expired": now - timedelta(days=3),
            "running": now + timedelta(days=40),
        },
    )
    db.session.commit()


def status_case(random_sql: str) -> str:
    branches = " ".join(
        f"WHEN {random_sql} < {share} THEN '{status}'" for status, share in STATUS_SHARES
    )
    return f"CASE {branches} END"


def generate_orders(
    steps: Steps,
    period_start: datetime,
    period_end: datetime,
    orders: int,
    vendors: int,
    customers: int,
) -> None:
    """``orders`` orders over [start, end): uneven per vendor, realistic statuses and refunds."""
    paid = ", ".join(f"'{status}'" for status in PAID_STATUSES)
    steps.run(
        f"orders {period_start:%Y-%m}",
        f"""
        INSERT INTO orders (id, checkout_id, vendor_id, customer_id, source, number, status,
                            subtotal, delivery_fee, points_discount, total, refunded_amount,
                            refunded_subtotal, paid_at, completed_at, canceled_at, created_at,
                            updated_at)
        SELECT id, gen_random_uuid(), vendor_id, md5('customer' || customer_no)::uuid, 'portal',
               -- Each shop's next numbers, in order of placing, after those it has already.
               coalesce(counter.last_number, :first - 1)
                   + row_number() OVER (PARTITION BY vendor_id ORDER BY created_at, id),
               status, subtotal, delivery_fee,
               0, subtotal + delivery_fee,
               CASE status WHEN 'refunded' THEN subtotal + delivery_fee
                           WHEN 'partially_refunded' THEN refunded_subtotal ELSE 0 END,
               refunded_subtotal, paid_at,
               CASE WHEN status IN ('completed', 'partially_refunded', 'refunded')
                    THEN paid_at + interval '2 hours' END,
               CASE WHEN status = 'canceled' THEN created_at + interval '10 minutes' END,
               created_at, created_at
        FROM (
            SELECT *,
                   CASE WHEN status IN ({paid}) THEN created_at + interval '3 minutes' END
                       AS paid_at,
                   CASE status WHEN 'refunded' THEN subtotal
                               WHEN 'partially_refunded' THEN round(subtotal * 0.3, 2)
                               ELSE 0 END AS refunded_subtotal
            FROM (
                SELECT gen_random_uuid() AS id,
                       md5('vendor' || (1 + floor(:vendors * power(r_vendor, 2.5))::int))::uuid
                           AS vendor_id,
                       1 + floor(:customers * r_customer)::int AS customer_no,
                       round((5 + 120 * r_amount)::numeric, 2) AS subtotal,
                       CASE WHEN r_amount < 0.5 THEN 4.99 ELSE 0 END AS delivery_fee,
                       {status_case("r_status")} AS status,
                       :start + floor(r_time * :seconds) * interval '1 second' AS created_at
                FROM (
                    SELECT random() AS r_vendor, random() AS r_customer, random() AS r_amount,
                           random() AS r_status, random() AS r_time
                    FROM generate_series(1, :orders)
                ) draws
            ) drawn
        ) orders_to_insert
        LEFT JOIN vendor_order_counters counter USING (vendor_id)
        """,
        {
            "vendors": vendors,
            "customers": customers,
            "orders": orders,
            "start": period_start,
            "seconds": int((period_end - period_start).total_seconds()),
            "first": current_app.config["FIRST_ORDER_NUMBER"],
        },
    )
    # The numbers' unique side table and each shop's counter, as order intake keeps them.
    bounds = {"start": period_start, "end": period_end}
    steps.run(
        f"order numbers {period_start:%Y-%m}",
        """
        INSERT INTO vendor_order_numbers (vendor_id, number, order_id, order_created_at)
        SELECT vendor_id, number, id, created_at FROM orders
        WHERE created_at >= :start AND created_at < :end
        """,
        bounds,
    )
    steps.run(
        f"order number counters {period_start:%Y-%m}",
        """
        INSERT INTO vendor_order_counters AS c (vendor_id, last_number)
        SELECT vendor_id, max(number) FROM orders
        WHERE created_at >= :start AND created_at < :end GROUP BY vendor_id
        ON CONFLICT (vendor_id) DO UPDATE SET last_number = EXCLUDED.last_number
        """,
        bounds,
    )


def generate_money_rows(steps: Steps, since: datetime) -> None:
    """Refunds, commission records and platform fees of the paid orders (sale and reversal rows)."""
    fee_rates = {
        vendor_type: schedule[0][2]
        for vendor_type, schedule in current_app.config["PLATFORM_FEE_SCHEDULES"].items()
    }
    fee_case = (
        "CASE v.vendor_type "
        + " ".join(f"WHEN '{t}' THEN CAST(:fee_{t} AS numeric)" for t in fee_rates)
        + " END"
    )
    fee_params = {f"fee_{t}": rate for t, rate in fee_rates.items()} | {"since": since}
    steps.run(
        "order refunds",
        """
        INSERT INTO order_refunds (order_id, order_created_at, refund_ref, amount, subtotal_amount,
                                   reason, created_at)
        SELECT id, created_at, 're_' || id, refunded_amount, refunded_subtotal, 'bench',
               least(paid_at + interval '2 days', now() AT TIME ZONE 'UTC')
        FROM orders WHERE created_at >= :since AND refunded_amount > 0
        """,
        {"since": since},
    )
    steps.run(
        "commission records (sales)",
        """
        INSERT INTO commission_records (order_id, order_created_at, shop_id, commission_rate,
                                        order_amount, commission_amount, status, created_at,
                                        settled_at)
        SELECT o.id, o.created_at, o.vendor_id, st.commission_rate, o.subtotal,
               round(o.subtotal * st.commission_rate, 2),
               CASE WHEN o.completed_at IS NOT NULL THEN 'settled' ELSE 'pending' END,
               o.paid_at, o.completed_at + interval '7 days'
        FROM orders o JOIN shop_tiers st ON st.shop_id = o.vendor_id
        WHERE o.created_at >= :since AND o.paid_at IS NOT NULL
        """,
        {"since": since},
    )
    steps.run(
        "commission records (refund reversals)",
        """
        INSERT INTO commission_records (order_id, order_created_at, shop_id, commission_rate,
                                        order_amount, commission_amount, status, created_at,
                                        refund_id)
        SELECT c.order_id, c.order_created_at, c.shop_id, c.commission_rate, -r.subtotal_amount,
               -round(r.subtotal_amount * c.commission_rate, 2), 'pending', r.created_at, r.id
        FROM order_refunds r
        JOIN commission_records c ON c.order_id = r.order_id
             AND c.order_created_at = r.order_created_at AND c.refund_id IS NULL
        WHERE r.order_created_at >= :since
        """,
        {"since": since},
    )
    steps.run(
        "platform fees (sales)",
        f"""
        INSERT INTO vendor_platform_fees (vendor_id, order_id, order_created_at, vendor_type,
                                          fee_percentage, order_amount, fee_amount, volume_tier,
                                          created_at)
        SELECT o.vendor_id, o.id, o.created_at, v.vendor_type, {fee_case}, o.subtotal,
               round(o.subtotal * {fee_case}, 2), 'standard', o.paid_at
        FROM orders o JOIN vendors v ON v.id = o.vendor_id
        WHERE o.created_at >= :since AND o.paid_at IS NOT NULL
        """,
        fee_params,
    )
    steps.run(
        "platform fees (refund reversals)",
        """
        INSERT INTO vendor_platform_fees (vendor_id, order_id, order_created_at, vendor_type,
                                          fee_percentage, order_amount, fee_amount, volume_tier,
                                          created_at, refund_id)
        SELECT f.vendor_id, f.order_id, f.order_created_at, f.vendor_type, f.fee_percentage,
               -r.subtotal_amount, -round(r.subtotal_amount * f.fee_percentage, 2), f.volume_tier,
               r.created_at, r.id
        FROM order_refunds r
        JOIN vendor_platform_fees f ON f.order_id = r.order_id
             AND f.order_created_at = r.order_created_at AND f.refund_id IS NULL
        WHERE r.order_created_at >= :since
        """,
        {"since": since},
    )
    # The load ran with triggers off, so the running totals the statement-level triggers keep
    # (migrations 0005 and 0012) are built here, as migration 0012 builds them for existing rows.
    steps.run(
        "commission running totals",
        """
        INSERT INTO vendor_commission_totals AS t
            (shop_id, status, commission_total, record_count, amount_total, fee_total)
        SELECT c.shop_id, c.status, sum(c.commission_amount), count(*), sum(c.order_amount),
               coalesce(sum(f.fee_amount), 0)
        FROM commission_records c
        LEFT JOIN vendor_platform_fees f ON f.order_id = c.order_id AND f.vendor_id = c.shop_id
             AND f.refund_id IS NOT DISTINCT FROM c.refund_id
        GROUP BY c.shop_id, c.status
        ON CONFLICT (shop_id, status) DO UPDATE
        SET commission_total = EXCLUDED.commission_total, record_count = EXCLUDED.record_count,
            amount_total = EXCLUDED.amount_total, fee_total = EXCLUDED.fee_total
        """,
    )


def generate_products(steps: Steps, shops: int, per_shop: int) -> None:
    """``per_shop`` products for each of the ``shops`` shops with the most orders (the vendor
    pages' benchmark opens the largest shop's product list), over 50 brands and 20 categories."""
    steps.run(
        "brands",
        # name_key as portal.catalog.services.brand_key makes it: case-folded letters and digits.
        "INSERT INTO brands (id, name, name_key, slug) SELECT gen_random_uuid(), "
        "'Bench Brand ' || n, 'benchbrand' || n, 'bench-brand-' || n "
        "FROM generate_series(1, 50) n ON CONFLICT DO NOTHING",
    )
    steps.run(
        "product categories",
        "INSERT INTO product_categories (id, name, slug) SELECT gen_random_uuid(), "
        "'Bench Category ' || n, 'bench-category-' || n FROM generate_series(1, 20) n "
        "ON CONFLICT DO NOTHING",
    )
    steps.run(
        f"products ({per_shop:,} for each of the {shops} largest shops)",
        """
        WITH largest AS (
            SELECT vendor_id FROM orders GROUP BY vendor_id ORDER BY count(*) DESC LIMIT :shops
        ), brand AS (
            SELECT id, row_number() OVER (ORDER BY slug) - 1 AS k FROM brands
            WHERE slug LIKE 'bench-brand-%'
        ), category AS (
            SELECT id, row_number() OVER (ORDER BY slug) - 1 AS k FROM product_categories
            WHERE slug LIKE 'bench-category-%'
        )
        INSERT INTO products (id, vendor_id, title, sku, brand_id, category_id, price, inventory,
                              status, created_at, updated_at)
        SELECT gen_random_uuid(), l.vendor_id, 'Bench product ' || n, 'BENCH-' || n,
               b.id, c.id, 1 + (n % 120) + 0.99, n % 40,
               CASE WHEN n % 20 = 0 THEN 'archived' ELSE 'active' END,
               now() AT TIME ZONE 'UTC' - n * interval '1 minute',
               now() AT TIME ZONE 'UTC' - n * interval '1 minute'
        FROM largest l CROSS JOIN generate_series(1, :per_shop) n
        JOIN brand b ON b.k = n % 50 JOIN category c ON c.k = n % 20
        ON CONFLICT DO NOTHING
        """,
        {"shops": shops, "per_shop": per_shop},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders per month")
    parser.add_argument(
        "--months", type=int, default=1, help="finished months to fill, up to the last"
    )
    parser.add_argument(
        "--current-month-orders", type=int, default=0, help="orders in the running month, up to now"
    )
    parser.add_argument(
        "--no-money-rows", action="store_true", help="skip refunds, commissions, fees"
    )
    parser.add_argument(
        "--no-volumes",
        action="store_true",
        help="leave vendor_monthly_volumes empty (no incremental updater)",
    )
    parser.add_argument(
        "--products-per-shop",
        type=int,
        default=5000,
        help="products for each of the --product-shops largest shops (0: none)",
    )
    parser.add_argument("--product-shops", type=int, default=20)
    parser.add_argument(
        "--products-only",
        action="store_true",
        help="add the products to an existing benchmark database, nothing else",
    )
    args = parser.parse_args(argv)

    if args.products_only:
        with bench_app(args.database_url).app_context():
            generate_products(Steps(), args.product_shops, args.products_per_shop)
            db.session.execute(sa.text("ANALYZE products"))
            db.session.commit()
        return

    now = utcnow()
    periods = months_ending_last_finished(args.months, now.date())
    app = bench_app(args.database_url)
    began = time.monotonic()
    print(f"Generating into {app.config['SQLALCHEMY_DATABASE_URI']}")
    create_schema(app, periods[0].start.date())
    with app.app_context():
        steps = Steps()
        generate_people(steps, args.vendors, args.customers)
        for period in periods:
            generate_orders(
                steps, period.start, period.end, args.orders, args.vendors, args.customers
            )
        if args.current_month_orders:
            running = Period.containing(now)
            generate_orders(
                steps, running.start, now, args.current_month_orders, args.vendors, args.customers
            )
        if not args.no_money_rows:
            generate_money_rows(steps, periods[0].start)
        if args.products_per_shop:
            generate_products(steps, args.product_shops, args.products_per_shop)
        if not args.no_volumes:
            # What the incremental updater would have kept, so a close finds the usual state.
            for period in [*periods, Period.containing(now)]:
                label_began = time.monotonic()
                rows = rebuild_month_volumes(period)
                db.session.commit()
                seconds = time.monotonic() - label_began
                print(f"  {'volumes ' + str(period):<46} {rows:>10,} rows  {seconds:6.1f} s")
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        orders = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
    print(f"Done: {orders:,} orders in {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    main()
