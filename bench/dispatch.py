"""Time the dispatch's driver claim on 100,000 drivers around a city, beside its baseline.

    .venv/bin/python -m bench.dispatch                          # 100,000 drivers, 30% available
    .venv/bin/python -m bench.dispatch --drivers 20000 --runs 300 --quick

Its own database (default ``portal_bench_dispatch``; like ``bench.generate`` it refuses a name
without "bench") is dropped, created and migrated, then filled set-based: the drivers, uniformly
within ``--spread`` degrees of the city centre, ``--available`` of them available (the rest offline
or on a delivery), all verified with a clear check; one shop and order, and a delivery row per run
for the offers to point at. ``ANALYZE`` afterwards.

Each run picks a pickup point near the centre and times, in the same process and interleaved:

- **claim**: what the dispatch does to find its driver (``portal.deliveries.dispatch
  .claim_nearest``: the nearest few by the KNN scan, the radius filtered in Python, one driver
  claimed by id with ``FOR UPDATE SKIP LOCKED`` and checked again, the offer inserted by the
  statement that checks the driver holds no other), and the commit;
- **baseline**: the bare KNN statement plus one committed single-row ``UPDATE`` (of the nearest
  driver's ``updated_at``).

Between runs (untimed) the offer is withdrawn, so every run meets the same data. Prints the plan
of the KNN statement (``EXPLAIN (ANALYZE, BUFFERS)``), then median and p99 of both and their ratio.
Target (docs/performance.md, "Dispatch"): claim median under 2 ms and within 2x of the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.generate import bench_app, recreate_database
from portal.clock import utcnow
from portal.deliveries import dispatch
from portal.extensions import db

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_dispatch"
CITY = (45.5152, -122.6784)  # Portland, the demo's city


def create_schema(app) -> None:
    from flask_migrate import upgrade

    from portal.operations.partitions import ensure_partitions

    recreate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        upgrade()
        ensure_partitions()
        db.session.commit()


def fill(drivers: int, available: float, spread: float, runs: int) -> tuple:
    """The drivers, a shop, an order and ``runs`` deliveries; returns the deliveries' ids."""
    from portal.auth import services as accounts
    from portal.orders import services as orders
    from portal.vendors.services import vendor_for_user

    began = time.monotonic()
    db.session.execute(
        sa.text(
            """
            INSERT INTO drivers (full_name, phone, email, vehicle_type, license_number,
                                 insurance_verified, background_check_status, current_location,
                                 status, total_deliveries)
            SELECT 'Bench Driver ' || i, '+1 503 555 0100', 'driver' || i || '@bench.example',
                   'car', 'B' || i, true, 'clear',
                   ST_SetSRID(ST_MakePoint(:lng + (random() - 0.5) * 2 * :spread,
                                           :lat + (random() - 0.5) * 2 * :spread), 4326)::geography,
                   CASE WHEN random() < :available THEN 'available'
                        WHEN random() < 0.5 THEN 'offline' ELSE 'on_delivery' END,
                   0
            FROM generate_series(1, :drivers) i
            """
        ),
        {
            "lat": CITY[0],
            "lng": CITY[1],
            "spread": spread,
            "available": available,
            "drivers": drivers,
        },
    )
    owner = accounts.register_vendor(
        email="bench-shop@bench.example",
        password="bench password",
        shop_name="Bench Shop",
        vendor_type="shop",
        contact_phone="+1 503 555 0100",
    )
    vendor = vendor_for_user(owner)
    order = orders.place_order(
        vendor_id=vendor.id,
        items=[orders.LineItem(title="Bench item", quantity=1, unit_price=Decimal("10.00"))],
        delivery_fee=Decimal("4.99"),
    )
    ids = db.session.scalars(
        sa.text(
            """
            INSERT INTO delivery_assignments (order_id, order_created_at, vendor_id, provider,
                                              status, pickup_address, dropoff_address)
            SELECT :order_id, :created_at, :vendor_id, 'internal', 'created', '{}', '{}'
            FROM generate_series(1, :runs)
            RETURNING id
            """
        ),
        {
            "order_id": order.id,
            "created_at": order.created_at.replace(tzinfo=None),
            "vendor_id": vendor.id,
            "runs": runs,
        },
    ).all()
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    counts = dict(
        db.session.execute(sa.text("SELECT status, count(*) FROM drivers GROUP BY status")).all()
    )
    print(f"  {drivers:,} drivers ({counts}) in {time.monotonic() - began:.1f} s")
    return ids


def pickup(rng: random.Random, spread: float) -> tuple[float, float]:
    return (CITY[0] + rng.uniform(-spread, spread), CITY[1] + rng.uniform(-spread, spread))


def claim(point, assignment_id) -> float:
    """The dispatch's claim, its offer included, committed; seconds taken. The offer is withdrawn
    afterwards, untimed, so the next run meets the same drivers."""
    began = time.perf_counter()
    found = dispatch.claim_nearest(point, assignment_id, now=utcnow())
    db.session.commit()
    took = time.perf_counter() - began
    if found is not None:
        db.session.execute(
            sa.text("UPDATE delivery_offers SET outcome = 'withdrawn' WHERE id = :id"),
            {"id": found.offer_id},
        )
        db.session.commit()
    return took


def baseline(point, k: int) -> float:
    """The bare KNN statement plus one committed single-row UPDATE; seconds taken."""
    began = time.perf_counter()
    nearest = dispatch.nearest_available(point, k)
    db.session.execute(
        sa.text("UPDATE drivers SET updated_at = now() WHERE id = :id"), {"id": nearest[0][0]}
    )
    db.session.commit()
    return time.perf_counter() - began


def knn_alone(point, k: int) -> float:
    """The bare KNN statement, its transaction ended (no write, nothing to commit)."""
    began = time.perf_counter()
    dispatch.nearest_available(point, k)
    db.session.rollback()
    return time.perf_counter() - began


def print_plan(k: int) -> None:
    sql = dispatch.NEAREST_AVAILABLE_SQL
    rows = db.session.execute(
        sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql), {"lat": CITY[0], "lng": CITY[1], "k": k}
    )
    print("Plan of the KNN statement (at the city centre):")
    for (line,) in rows:
        print(f"    {line}")
    db.session.rollback()


def figures(label: str, seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    median = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"  {label:<46} median {median:6.3f} ms   p99 {p99:6.3f} ms")
    return median, p99


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--drivers", type=int, default=100_000)
    parser.add_argument("--available", type=float, default=0.30)
    parser.add_argument("--spread", type=float, default=0.25, help="degrees around the centre")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="a small run that proves it works")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.warmup = min(args.runs, 300), min(args.warmup, 20)

    if "bench" not in (make_url(args.database_url).database or ""):
        raise SystemExit("refusing: the benchmark database's name must contain 'bench'")
    app = bench_app(args.database_url)
    print(f"Dispatch claim on {app.config['SQLALCHEMY_DATABASE_URI']}")
    create_schema(app)
    with app.app_context():
        ids = fill(args.drivers, args.available, args.spread, args.runs + args.warmup)
        k = app.config["DISPATCH_CANDIDATES"]
        print(
            f"  radius {app.config['DISPATCH_RADIUS_MILES']} mi, {k} nearest per claim, "
            f"{args.runs} runs after {args.warmup} warm-up"
        )
        print_plan(k)
        rng = random.Random(2026)
        claims, baselines, knns = [], [], []
        for n, assignment_id in enumerate(ids):
            point = pickup(rng, args.spread / 2)
            # Interleaved, and alternating which goes first, so both meet the same noise.
            if n % 2:
                took_claim = claim(point, assignment_id)
                took_base = baseline(point, k)
            else:
                took_base = baseline(point, k)
                took_claim = claim(point, assignment_id)
            took_knn = knn_alone(point, k)
            if n >= args.warmup:
                claims.append(took_claim)
                baselines.append(took_base)
                knns.append(took_knn)
        print("Results:")
        claim_median, _ = figures("claim (KNN, radius, SKIP LOCKED, offer, commit)", claims)
        base_median, _ = figures("baseline (KNN + one committed UPDATE)", baselines)
        figures("for scale: the KNN statement alone", knns)
        print(f"  claim / baseline at the median: {claim_median / base_median:.2f}x")
        print(
            "  target: claim median < 2 ms "
            f"({'met' if claim_median < 2 else 'NOT met'}), within 2x of the baseline "
            f"({'met' if claim_median <= 2 * base_median else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
