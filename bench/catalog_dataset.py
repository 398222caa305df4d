"""The matcher end to end through the database, on a benchmark in the DeepMatcher layout.

    .venv/bin/python -m bench.catalog_dataset ../shared/datasets/abt-buy

tableB becomes the master products (created through ``catalog.mapping``, so their match fields
are kept as the portal keeps them), tableA one vendor's products; the matcher job then runs over
that vendor, as a CSV import would start it. Reported: blocking recall over every labelled match
of all splits, and precision/recall/F1 on the test split's pairs (a pair is predicted a match when
the run mapped the product to that master, or proposed it at or above the model's decision
threshold), beside the scoring model's own figure on the same pairs from ``flask catalog
evaluate``. The model is the configured one (``CATALOG_MATCHER_MODEL``).
"""

from __future__ import annotations

import argparse
import time
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.auth import services as accounts
from portal.catalog import mapping
from portal.catalog.match_jobs import run_catalog_match, start_match_run
from portal.catalog.matching import blocking
from portal.catalog.matching.columns import read_pairs, read_table
from portal.catalog.matching.loading import active_matcher
from portal.catalog.matching.metrics import precision_recall_f1
from portal.catalog.matching.pipeline import unmapped_products
from portal.catalog.models import (
    MasterProduct,
    MatchProposal,
    Product,
    VendorProductMapping,
)
from portal.catalog.services import create_product, get_or_create_brand, get_or_create_category
from portal.extensions import db
from portal.vendors.services import vendor_for_user

from .product_import import recreate

DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_catalog_dataset"


def load(directory: Path):
    """Masters from tableB, vendor products from tableA; returns {record id: row id} per side."""
    left, _ = read_table(directory / "tableA.csv")
    right, _ = read_table(directory / "tableB.csv")
    masters: dict[str, uuid.UUID] = {}
    for record in right.values():
        brand = get_or_create_brand(record.brand[:255]) if record.brand else None
        category = get_or_create_category(record.category[:255]) if record.category else None
        price = Decimal(str(record.price)).quantize(Decimal("0.01")) if record.price else None
        master = MasterProduct(
            name=(record.name or record.id)[:255],
            description=record.description or None,
            brand_id=brand.id if brand else None,
            category_id=category.id if category else None,
            attributes={"model": record.modelno} if record.modelno else None,
            slug=f"b-{record.id}",
            lowest_price=price,
            highest_price=price,
        )
        mapping.refresh_match_fields(master)
        db.session.add(master)
        db.session.flush()
        masters[record.id] = master.id
    user = accounts.register_vendor(
        email="dataset-vendor@example.com",
        password="correct horse battery",
        shop_name="Dataset Shop",
        vendor_type="shop",
        contact_phone="+1 555 0100",
    )
    vendor = vendor_for_user(user)
    products: dict[str, uuid.UUID] = {}
    for record in left.values():
        brand = get_or_create_brand(record.brand[:255]) if record.brand else None
        category = get_or_create_category(record.category[:255]) if record.category else None
        product = create_product(
            vendor,
            title=(record.name or record.id)[:255],
            description=record.description or None,
            brand=brand,
            category=category,
            price=Decimal(str(record.price or 0)).quantize(Decimal("0.01")),
            attributes={"model": record.modelno} if record.modelno else None,
        )
        products[record.id] = product.id
    db.session.commit()
    return vendor, products, masters


def blocking_recall(products, masters, matches) -> tuple[float, float]:
    """Share of labelled matches whose master is among the product's candidates; mean count."""
    rows = unmapped_products(list(products.values()))
    brands = {}
    sides = []
    for p in rows:
        if p.brand_id not in brands:
            brands[p.brand_id] = p.brand.name if p.brand else None
        sides.append(blocking.vendor_side(p, brands[p.brand_id]))
    found: dict = {}
    for start in range(0, len(sides), 500):
        found.update(blocking.candidates(sides[start : start + 500]))
    hits = sum(masters[b] in found.get(products[a], {}) for a, b in matches)
    mean = sum(len(v) for v in found.values()) / max(len(found), 1)
    db.session.rollback()
    return hits / max(len(matches), 1), mean


def outcomes(products) -> dict[uuid.UUID, tuple[uuid.UUID, float, str]]:
    """Product id -> (master id, confidence, band) after the run."""
    result = {}
    for m in db.session.scalars(
        sa.select(VendorProductMapping).where(
            VendorProductMapping.vendor_product_id.in_(list(products.values()))
        )
    ):
        band = "new_master" if m.match_method == "new_master" else "auto"
        result[m.vendor_product_id] = (m.master_product_id, float(m.match_confidence or 0), band)
    for p in db.session.scalars(
        sa.select(MatchProposal).where(
            MatchProposal.status == "pending",
            MatchProposal.vendor_product_id.in_(list(products.values())),
        )
    ):
        result[p.vendor_product_id] = (p.master_product_id, float(p.confidence), "review")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--batch", type=int, default=250, help="products per matcher batch")
    args = parser.parse_args()

    recreate(args.database_url)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": args.database_url, "CATALOG_MATCH_BATCH": args.batch}
    )
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        vendor, products, masters = load(args.dataset)
        print(
            f"loaded {len(products)} vendor products, {len(masters)} masters"
            f" in {time.perf_counter() - start:.1f} s"
        )
        splits = {s: read_pairs(args.dataset / f"{s}.csv") for s in ("train", "valid", "test")}
        matches = {(a, b) for pairs in splits.values() for a, b, label in pairs if label == 1}
        recall, mean = blocking_recall(products, masters, sorted(matches))
        print(
            f"blocking: recall {recall:.4f} over {len(matches)} labelled matches,"
            f" {mean:.1f} candidates per product"
        )
        matcher = active_matcher()
        if matcher.model is None:
            print(matcher.notice)
        run = start_match_run("vendor", vendor_id=vendor.id)
        db.session.commit()
        start = time.perf_counter()
        summary = run_catalog_match(str(run.id))
        elapsed = time.perf_counter() - start
        print(f"run: {summary} in {elapsed:.1f} s")
        done = outcomes(products)
        decision = matcher.thresholds.decision if matcher.thresholds else 0.5
        test = splits["test"]
        labels, predicted = [], []
        for a, b, label in test:
            master, confidence, band = done.get(products[a], (None, 0.0, "none"))
            positive = (
                master == masters[b]
                and band != "new_master"
                and (band == "auto" or confidence >= decision)
            )
            labels.append(label)
            predicted.append(positive)
        import numpy as np

        p, r, f = precision_recall_f1(np.array(labels), np.array(predicted))
        print(f"test pairs through the database: precision {p:.4f} recall {r:.4f} f1 {f:.4f}")
        # Calibration through the database: the run's chosen pairs that a split labels, by the
        # confidence the run gave them (auto-maps are stored to the cent, proposals to 1e-4).
        labelled = {
            (products[a], masters[b]): label for pairs in splits.values() for a, b, label in pairs
        }
        print("reliability of the chosen pairs (all splits' labels):")
        for low in (0.0, 0.2, 0.4, 0.6, 0.8, 0.9):
            high = {0.8: 0.9, 0.9: 1.01}.get(low, low + 0.2)
            chosen = [
                (confidence, labelled[(pid, master)])
                for pid, (master, confidence, band) in done.items()
                if band != "new_master" and (pid, master) in labelled and low <= confidence < high
            ]
            if chosen:
                mean = sum(c for c, _ in chosen) / len(chosen)
                rate = sum(label for _, label in chosen) / len(chosen)
                print(
                    f"  {low:.1f}-{min(high, 1.0):.1f}: {len(chosen):4d} pairs,"
                    f" mean confidence {mean:.3f}, observed {rate:.3f}"
                )
        bands = {}
        for _, _, band in done.values():
            bands[band] = bands.get(band, 0) + 1
        print(f"bands: {bands}; decision threshold {decision:.4f}")
        total_products = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        print(f"products {total_products}")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
