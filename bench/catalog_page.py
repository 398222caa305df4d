"""Time the vendor's catalog page (``/vendor/products/catalog``) for a shop of 10,000 products.

    .venv/bin/python -m bench.catalog_page                    # 10,000 products, own database
    .venv/bin/python -m bench.catalog_page --products 50000

The benchmark works in its own database (``portal_bench_catalog``, dropped and migrated first). The
measured shop has ``--products`` active products in every catalog status (40% matched
automatically, 15% verified, 10% own master, 10% waiting for review, 25% unmatched); five other
shops have as many again, so the statement must find the shop's rows by its indexes. Each variant
of ``catalog_page`` (the service the page calls: one statement) is timed over ``--repeats`` runs
beside the vendor's products list (``products.product_page``, the list of docs/performance.md) on
the same shop in the same run, and reported as the median and its ratio to that baseline. The
plan of the default page is printed with the indexes it uses.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.auth import services as accounts
from portal.catalog import products, vendor_catalog
from portal.extensions import db
from portal.vendors.services import vendor_for_user

DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_catalog"
OTHER_SHOPS = 5


def recreate(url: str) -> None:
    parsed = make_url(url)
    if "bench" not in (parsed.database or ""):
        raise SystemExit(f"refusing to drop {parsed.database!r}: its name lacks 'bench'")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def shop(n: int):
    user = accounts.register_vendor(
        email=f"bench-catalog-{n}@example.com",
        password="correct horse battery",
        shop_name=f"Bench Catalog Shop {n}",
        vendor_type="shop",
        contact_phone="+1 555 0100",
    )
    return vendor_for_user(user)


def fill(vendor_id, count: int) -> None:
    """``count`` products of the shop, each in the status its number gives (set-based)."""
    db.session.execute(
        sa.text(
            """
            INSERT INTO products (vendor_id, title, sku, price, inventory, status)
            SELECT :v, 'Product ' || lpad(n::text, 6, '0') || ' of ' || :v, 'SKU-' || n,
                   (1 + n % 500) / 4.0, n % 40, 'active'
              FROM generate_series(1, :count) n
            """
        ),
        {"v": vendor_id, "count": count},
    )
    db.session.execute(
        sa.text(
            """
            INSERT INTO master_products (name, normalized_name, slug)
            SELECT 'Master ' || p.sku || ' ' || p.vendor_id, 'master ' || lower(p.sku),
                   'master-' || lower(p.sku) || '-' || p.vendor_id
              FROM products p WHERE p.vendor_id = :v AND substring(p.sku from 5)::int % 20 < 13
            """
        ),
        {"v": vendor_id},
    )
    # n % 20: 0-7 auto, 8-10 verified, 11-12 own master, 13-14 waiting, 15-19 unmatched.
    db.session.execute(
        sa.text(
            """
            INSERT INTO vendor_product_mappings
                   (master_product_id, vendor_id, vendor_product_id, vendor_price, vendor_inventory,
                    match_method, match_confidence, verified)
            SELECT mp.id, p.vendor_id, p.id, p.price, p.inventory,
                   CASE WHEN k < 11 THEN 'model' ELSE 'new_master' END,
                   CASE WHEN k < 11 THEN 0.97 END, k BETWEEN 8 AND 10
              FROM (SELECT *, substring(sku from 5)::int % 20 AS k FROM products
                     WHERE vendor_id = :v) p
              JOIN master_products mp ON mp.slug = 'master-' || lower(p.sku) || '-' || p.vendor_id
             WHERE p.k < 13
            """
        ),
        {"v": vendor_id},
    )
    db.session.execute(
        sa.text(
            """
            INSERT INTO match_proposals
                   (vendor_id, vendor_product_id, master_product_id, confidence, match_method)
            SELECT p.vendor_id, p.id,
                   (SELECT id FROM master_products ORDER BY id LIMIT 1), 0.6, 'model'
              FROM products p
             WHERE p.vendor_id = :v AND substring(p.sku from 5)::int % 20 IN (13, 14)
            """
        ),
        {"v": vendor_id},
    )


def median_ms(func, repeats: int) -> float:
    func()  # warm: statements compiled, pages cached
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        db.session.rollback()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def plan(vendor_id) -> list[str]:
    statement = vendor_catalog._statement(vendor_id, "", "", 1, vendor_catalog.PER_PAGE)
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--database-url", default=DATABASE_URL)
    args = parser.parse_args(argv)

    recreate(args.database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        upgrade()
        vendor = shop(0)
        fill(vendor.id, args.products)
        for n in range(1, OTHER_SHOPS + 1):
            fill(shop(n).id, args.products)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        result = vendor_catalog.catalog_page(vendor.id)
        print(f"shop: {result.counts['all']:,} active products; counts {result.counts}")
        print(f"all shops: {(OTHER_SHOPS + 1) * args.products:,} products")

        last_page = result.pages
        baseline = median_ms(
            lambda: products.product_page(vendor.id, products.ProductFilter()), args.repeats
        )
        print(f"{'baseline: products list, page 1':<44} {baseline:8.2f} ms")
        variants = {
            "catalog, page 1": {},
            f"catalog, page {last_page} (the last)": {"page": last_page},
            "catalog, unmatched only": {"status": "unmatched"},
            "catalog, waiting only": {"status": "waiting"},
            "catalog, verified only, page 2": {"status": "verified", "page": 2},
            "catalog, search 'product 0042'": {"q": "product 0042"},
        }
        for label, options in variants.items():
            took = median_ms(
                lambda o=options: vendor_catalog.catalog_page(vendor.id, **o), args.repeats
            )
            print(f"{label:<44} {took:8.2f} ms  ({took / baseline:.2f} x baseline)")

        print("plan of page 1 (EXPLAIN ANALYZE):")
        lines = plan(vendor.id)
        for line in lines:
            if any(word in line for word in ("Index", "Seq Scan", "Execution Time", "Hash Join")):
                print("  " + line.strip())
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
