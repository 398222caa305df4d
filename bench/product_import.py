"""Time a 10,000-row product CSV import: the whole-file check, then the job, then a re-import.

    .venv/bin/python -m bench.product_import                 # 10,000 rows, own database
    .venv/bin/python -m bench.product_import --rows 50000

The benchmark works in its own database (``portal_bench_products``, dropped and migrated first) and
a temporary MEDIA_ROOT. The job function runs in-process, as the RQ worker would run it, with its
per-batch commits; the mapped share of the products (one in five, mapped to 500 master products)
makes the catalog aggregates part of the measured work.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid

import psycopg
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import create_app
from portal.auth import services as accounts
from portal.catalog.gtin import check_digit
from portal.catalog.imports import COLUMNS, check_csv, create_import
from portal.catalog.jobs import run_product_import
from portal.extensions import db
from portal.vendors.services import vendor_for_user

DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_products"


def recreate(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def generate_csv(rows: int, seed: int = 7, price_bump: int = 0) -> bytes:
    rng = random.Random(seed)
    lines = [",".join(COLUMNS)]
    brands = [f"Brand {n}" for n in range(200)]
    categories = [f"Category {n}" for n in range(50)]
    for n in range(rows):
        body = f"{400000000000 + n:012d}"
        gtin = body + str(check_digit(body))
        price = f"{(rng.randint(50, 50000) + price_bump) / 100:.2f}"
        lines.append(
            ",".join(
                [
                    f"SKU-{n:06d}",
                    f'"Product {n}, size {rng.choice("SML")}"',
                    "A product made for the benchmark",
                    gtin,
                    rng.choice(brands),
                    rng.choice(categories),
                    price,
                    str(rng.randint(0, 500)),
                    "active",
                    f"colour={rng.choice(['red', 'green', 'blue'])}; weight={rng.randint(1, 9)} kg",
                ]
            )
        )
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:7.2f} s")
    return result, elapsed


def map_some_products(vendor_id: uuid.UUID, masters: int = 500) -> None:
    """Map every fifth product to one of ``masters`` master products, as the matcher would."""
    db.session.execute(
        sa.text(
            "INSERT INTO master_products (name, normalized_name, slug) "
            "SELECT 'Master ' || n, 'master ' || n, 'master-' || n FROM generate_series(1, :m) n"
        ),
        {"m": masters},
    )
    db.session.execute(
        sa.text(
            """
            INSERT INTO vendor_product_mappings
                   (master_product_id, vendor_id, vendor_product_id, vendor_price, match_method)
            SELECT mp.id, p.vendor_id, p.id, p.price, 'gtin'
              FROM (SELECT id, vendor_id, price, row_number() OVER (ORDER BY sku) AS rn
                      FROM products WHERE vendor_id = :v) p
              JOIN master_products mp ON mp.slug = 'master-' || (1 + p.rn % :m)
             WHERE p.rn % 5 = 0
            """
        ),
        {"v": vendor_id, "m": masters},
    )
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=DATABASE_URL)
    args = parser.parse_args()

    recreate(args.database_url)
    media = tempfile.mkdtemp(prefix="bench-media-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "MEDIA_ROOT": media,
            "PRODUCT_IMPORT_MAX_ROWS": max(args.rows, 50_000),
        }
    )
    with app.app_context():
        upgrade()
        user = accounts.register_vendor(
            email="bench-vendor@example.com",
            password="correct horse battery",
            shop_name="Bench Shop",
            vendor_type="shop",
            contact_phone="+1 555 0100",
        )
        vendor = vendor_for_user(user)
        db.session.commit()

        def run(data: bytes, label: str):
            checked, check_s = timed(f"{label}: check {args.rows:,} rows", lambda: check_csv(data))
            assert checked.ok, checked.errors[:5]
            product_import = create_import(
                vendor, data, filename="bench.csv", rows=len(checked.rows)
            )
            db.session.commit()
            summary, job_s = timed(
                f"{label}: job (upserts, aggregates, commits)",
                lambda: run_product_import(str(product_import.id)),
            )
            print(f"{'':<4}{summary}  → check + job {check_s + job_s:.2f} s")
            return check_s + job_s

        data = generate_csv(args.rows)
        print(f"CSV: {args.rows:,} rows, {len(data) / 1e6:.1f} MB")
        first = run(data, "first import")
        map_some_products(vendor.id)
        same = run(data, "same file again")
        changed = run(generate_csv(args.rows, price_bump=1), "every price changed, 20% mapped")
        masters = db.session.scalar(
            sa.text("SELECT count(*) FROM master_products WHERE vendor_count > 0")
        )
        print(f"master products with figures: {masters}")
        print(f"totals: first {first:.2f} s · same {same:.2f} s · changed {changed:.2f} s")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
