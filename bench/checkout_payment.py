"""Time a checkout's PaymentIntent (``portal.payments.intents.start_checkout_payment``) for a
two-shop checkout against the local Stripe server, beside its baseline.

    .venv/bin/python -m bench.checkout_payment                  # 300 checkouts, 20 warm-up
    .venv/bin/python -m bench.checkout_payment --runs 40 --warmup 5

Its own database (default ``portal_bench_payments``; like ``bench.generate`` it refuses a name
without "bench") is dropped, created and migrated, with two shops, an obfuscated product and a
plain one. The local Stripe server runs as a process of its own (as ``bench.payout_run``).
Before each run (untimed) a customer's checkout of two pending orders is placed and committed.
Then, interleaved, in the same process:

- **intent**: ``start_checkout_payment`` and its commit: the orders read with their lines and
  products, the outside names (the obfuscation rule), one ``POST /v1/payment_intents`` with its
  idempotency key, the row inserted;
- **baseline**: one ``GET /v1/balance`` through the same gateway (one HTTP round trip to the
  same server) plus one committed single-row ``UPDATE``.

Prints median and p99 of both and their ratio. The checkout as a whole (issue 13: a two-shop
cart up to the PaymentIntent at p99 under 150 ms) adds the cart and reservations on top.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from decimal import Decimal

import sqlalchemy as sa

from bench.dashboard import percentile
from bench.generate import bench_app, recreate_database
from bench.payout_run import API_KEY, free_port, start_stripe
from portal.extensions import db

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_payments"


def setup(app):
    from flask_migrate import upgrade

    from portal.auth import services as accounts
    from portal.catalog.services import create_product
    from portal.obfuscation import services as obfuscation
    from portal.orders.intake import customer_for_order
    from portal.vendors.services import vendor_for_user

    recreate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        upgrade()
        from portal.operations.partitions import ensure_partitions

        ensure_partitions()
        shops = [
            vendor_for_user(
                accounts.register_vendor(
                    email=f"shop{n}@bench.example",
                    password="bench password",
                    shop_name=f"Bench Shop {n}",
                    vendor_type="shop",
                    contact_phone="+1 503 555 0100",
                )
            )
            for n in (1, 2)
        ]
        secret = create_product(shops[0], title="Private Item Deluxe", price=Decimal("89.00"))
        obfuscation.create_classification("bench", "Bench classification")
        obfuscation.save_obfuscation(
            obfuscation.product_for_obfuscation(secret.id),
            classification_code="bench",
            name="Personal care item",
        )
        plain = create_product(shops[1], title="Ceramic Mug", price=Decimal("28.00"))
        customer = customer_for_order("buyer@bench.example", "Bench Buyer")
        db.session.commit()
        return [(shops[0].id, secret.id), (shops[1].id, plain.id)], customer.id


def place_checkout(lines, customer_id) -> uuid.UUID:
    from portal.catalog.models import Product
    from portal.orders.services import LineItem, place_order

    checkout_id = uuid.uuid4()
    for vendor_id, product_id in lines:
        product = db.session.get(Product, product_id)
        place_order(
            vendor_id=vendor_id,
            customer_id=customer_id,
            checkout_id=checkout_id,
            items=[LineItem(product.title, 2, product.price, product.id)],
            delivery_fee=Decimal("4.99"),
        )
    db.session.commit()
    return checkout_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    port = free_port()
    server = start_stripe(port)
    try:
        app = bench_app(args.database_url)
        app.config.update(STRIPE_API_BASE=f"http://127.0.0.1:{port}", STRIPE_SECRET_KEY=API_KEY)
        lines, customer_id = setup(app)
        from portal.payments.intents import start_checkout_payment
        from portal.payouts.gateway import gateway

        intent_ms, baseline_ms = [], []
        with app.app_context():
            for run in range(args.warmup + args.runs):
                checkout_id = place_checkout(lines, customer_id)
                began = time.perf_counter()
                start_checkout_payment(checkout_id)
                db.session.commit()
                intent = (time.perf_counter() - began) * 1000
                began = time.perf_counter()
                gateway().retrieve_balance()
                db.session.execute(
                    sa.text("UPDATE customers SET full_name = full_name WHERE id = :id"),
                    {"id": customer_id},
                )
                db.session.commit()
                baseline = (time.perf_counter() - began) * 1000
                if run >= args.warmup:
                    intent_ms.append(intent)
                    baseline_ms.append(baseline)
    finally:
        server.terminate()
        server.wait(timeout=10)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Checkouts paid by intent: {len(intent_ms)} (after {args.warmup} warm-up), load {load}")
    for label, values in (("intent", intent_ms), ("baseline", baseline_ms)):
        print(
            f"  {label:<9} median {statistics.median(values):7.2f} ms   "
            f"p99 {percentile(values, 0.99):7.2f} ms"
        )
    print(
        "  intent / baseline at the median "
        f"{statistics.median(intent_ms) / statistics.median(baseline_ms):.2f}, at p99 "
        f"{percentile(intent_ms, 0.99) / percentile(baseline_ms, 0.99):.2f}"
    )


if __name__ == "__main__":
    main()
