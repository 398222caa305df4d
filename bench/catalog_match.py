"""Time the catalog matcher: N vendor products against M master products, with its own generator.

    .venv/bin/python -m bench.catalog_match                        # 100,000 x 100,000
    .venv/bin/python -m bench.catalog_match --products 20000 --masters 20000

The generator makes product families the way shops list them: a brand, a series word, a model
code, a size with its unit and a product type. Masters get their match fields through
``catalog.mapping.match_fields`` as the portal keeps them (computed at load, not in the timed
run). Vendor products, spread over --vendors shops, are either another wording of a master (a
share ``--overlap``: words reordered or dropped, the code hyphenated differently, a colour
added, the price moved a little) or a product of their own (same brand and type, another code:
the hard negatives). Those labels give the blocking recall.

Timed: the matcher job over the whole catalog, in-process as the worker runs it, with its
per-batch commits; per stage; then the baseline, the bare blocking SQL over the same products.
Peak memory is this process's maximum resident set (PostgreSQL's own is not in it).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import string
import time
import uuid

import psycopg
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.catalog.mapping import match_fields
from portal.catalog.match_jobs import run_catalog_match, start_match_run
from portal.catalog.matching import blocking
from portal.catalog.matching.pipeline import Stages
from portal.extensions import db

from .product_import import recreate

DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_catalog_match"
TYPES = (
    "LCD HDTV", "digital camera", "GPS navigator", "universal remote", "headphones", "blender",
    "microwave oven", "laptop", "printer", "router", "speaker", "monitor", "hard drive", "kettle",
    "vacuum cleaner", "espresso machine", "tablet", "projector", "drill", "toaster",
)  # fmt: skip
SIZES = (("inch", 19, 65), ("gb", 16, 2000), ("w", 20, 1800), ("mp", 8, 24), ("l", 1, 5))
COLOURS = ("black", "white", "silver", "blue", "red")
SERIES = [
    "".join(random.Random(n).choices(string.ascii_lowercase, k=random.Random(n).randint(4, 8)))
    for n in range(600)
]


def _code(rng: random.Random) -> tuple[str, str]:
    """A model code and a second spelling of it ('KDL40V410' / 'KDL-40V410')."""
    letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(2, 3)))
    digits = str(rng.randint(10, 9999))
    tail = "".join(rng.choices(string.ascii_uppercase + string.digits, k=rng.randint(0, 3)))
    return f"{letters}{digits}{tail}", f"{letters}-{digits}{tail}"


def _family(rng: random.Random, brands: list[str]) -> dict:
    unit, low, high = rng.choice(SIZES)
    code, spelled = _code(rng)
    return {
        "brand": rng.choice(brands),
        "series": rng.choice(SERIES),
        "code": code,
        "spelled": spelled,
        "size": f"{rng.randint(low, high)} {unit}",
        "type": rng.choice(TYPES),
        "price": round(rng.uniform(10, 2000), 2),
    }


def master_title(f: dict) -> str:
    return f"{f['brand']} {f['series']} {f['code']} {f['size']} {f['type']}"


def vendor_title(f: dict, rng: random.Random) -> str:
    words = [f["brand"], f["series"], rng.choice((f["code"], f["spelled"])), f["size"], f["type"]]
    if rng.random() < 0.3:
        words.pop(rng.choice((1, 3)))
    if rng.random() < 0.5:
        words.append(rng.choice(COLOURS))
    if rng.random() < 0.4:
        words[1:] = rng.sample(words[1:], len(words) - 1)
    return " ".join(words)


def _copy(conn, table: str, columns: list[str], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate(url: str, masters: int, products: int, vendors: int, overlap: float, seed: int):
    """Loads the catalog; returns {vendor product id: its true master id or None}."""
    rng = random.Random(seed)
    # Letters only: a brand is a word, not a model code.
    brands = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9))).title()
        for _ in range(300)
    ]
    families = [_family(rng, brands) for _ in range(masters)]
    master_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(masters)]
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    truth: dict[uuid.UUID, uuid.UUID | None] = {}
    with psycopg.connect(dsn) as conn:
        vendor_ids = []
        for n in range(vendors):
            vendor_ids.append(
                conn.execute(
                    "INSERT INTO vendors (name, slug) VALUES (%s, %s) RETURNING id",
                    (f"Catalog shop {n}", f"catalog-shop-{n}"),
                ).fetchone()[0]
            )

        def master_rows():
            for mid, f in zip(master_ids, families, strict=True):
                title = master_title(f)
                fields = match_fields(title, brand=f["brand"])
                codes = "{" + ",".join(fields["model_codes"]) + "}"
                yield (
                    mid, title, fields["normalized_name"], codes, fields["match_text"],
                    f"m-{mid.hex}", f["price"], f["price"],
                )  # fmt: skip

        _copy(
            conn,
            "master_products",
            ["id", "name", "normalized_name", "model_codes", "match_text", "slug",
             "lowest_price", "highest_price"],
            master_rows(),
        )  # fmt: skip

        def product_rows():
            for n in range(products):
                pid = uuid.UUID(int=rng.getrandbits(128), version=4)
                if rng.random() < overlap:
                    index = rng.randrange(masters)
                    family, truth[pid] = families[index], master_ids[index]
                else:
                    family = _family(rng, brands)
                    family["brand"] = families[rng.randrange(masters)]["brand"]
                    truth[pid] = None
                price = round(family["price"] * rng.uniform(0.9, 1.1), 2)
                yield pid, vendor_ids[n % vendors], vendor_title(family, rng)[:255], price

        _copy(conn, "products", ["id", "vendor_id", "title", "price"], product_rows())
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # As autovacuum would by the time of a run: statistics, and the GIN indexes' pending
        # lists merged (the job merges them too; see blocking.merge_pending_index_entries).
        conn.execute("VACUUM ANALYZE master_products")
        conn.execute("VACUUM ANALYZE products")
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--masters", type=int, default=100_000)
    parser.add_argument("--vendors", type=int, default=20)
    parser.add_argument("--overlap", type=float, default=0.6)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", default=DATABASE_URL)
    args = parser.parse_args()

    recreate(args.database_url)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": args.database_url, "CATALOG_MATCH_BATCH": args.batch}
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    start = time.perf_counter()
    truth = generate(
        args.database_url, args.masters, args.products, args.vendors, args.overlap, args.seed
    )
    print(
        f"generated {args.masters:,} masters (match fields kept) and {args.products:,} vendor"
        f" products over {args.vendors} shops in {time.perf_counter() - start:.1f} s"
    )
    with app.app_context():
        # Baseline: the bare blocking SQL over the same products, nothing else.
        rows = db.session.execute(
            sa.text("SELECT id, vendor_id, title, description, sku, gtin, attributes FROM products")
        ).all()
        start = time.perf_counter()
        sides = [blocking.vendor_side(row, None) for row in rows]
        fields_s = time.perf_counter() - start
        start = time.perf_counter()
        found: dict = {}
        for n in range(0, len(sides), args.batch):
            found.update(blocking.candidates(sides[n : n + args.batch]))
        baseline_s = time.perf_counter() - start
        db.session.rollback()
        labelled = [(pid, master) for pid, master in truth.items() if master is not None]
        recall = sum(master in found.get(pid, {}) for pid, master in labelled) / max(
            len(labelled), 1
        )
        per_product = sum(len(v) for v in found.values()) / max(len(found), 1)
        print(f"vendor match fields: {fields_s:.1f} s")
        print(
            f"baseline, blocking SQL alone: {baseline_s:.1f} s"
            f" ({baseline_s / max(len(sides), 1) * 1000:.2f} ms per product)"
        )
        print(
            f"blocking: {per_product:.1f} candidates per product; recall {recall:.4f} on"
            f" {len(labelled):,} labelled matches"
        )

        run = start_match_run("catalog")
        db.session.commit()
        stages = Stages()
        start = time.perf_counter()
        summary = run_catalog_match(str(run.id), stages=stages)
        elapsed = time.perf_counter() - start
        print(f"matcher run: {elapsed:.1f} s for {summary['processed']:,} products")
        print(f"  {json.dumps(summary)}")
        for stage, seconds in sorted(stages.seconds.items(), key=lambda item: -item[1]):
            print(f"  {stage:<40} {seconds:8.1f} s")
        correct = db.session.execute(
            sa.text(
                "SELECT vendor_product_id, master_product_id FROM vendor_product_mappings"
                " WHERE match_method NOT IN ('new_master')"
            )
        ).all()
        right = sum(truth.get(pid) == mid for pid, mid in correct)
        print(f"mapped to a master: {len(correct):,}, of which right {right:,}")
        rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"peak RSS {rss_gb:.2f} GB; ratio run / bare blocking {elapsed / baseline_s:.1f}x")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
