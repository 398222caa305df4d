"""Time the vendor dashboard (and the first page of the commission statement) on the benchmark data.

    .venv/bin/python -m bench.generate --months 2     # once: 10,000 vendors, 2,000,000 orders
    .venv/bin/python -m bench.dashboard               # 200 shops x 10 requests each

Each request goes through the whole Flask stack (routing, sign-in session, role check, queries,
template) with the test client, so the figure is the server's time for the page, without network.
The sample always includes the shops with the most orders, where a scan would hurt most.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import sqlalchemy as sa
from flask_migrate import upgrade

from bench.generate import BENCH_PASSWORD, DEFAULT_DATABASE_URL
from portal import create_app
from portal.extensions import db


def bench_app(database_url: str):
    # Sign-in limits and CSRF are not what is measured here.
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def sample_owners(size: int, largest: int, seed: int = 7) -> list[tuple[str, int]]:
    """Owner emails of the ``largest`` shops by orders plus a random sample of the rest."""
    rows = db.session.execute(
        sa.text(
            "SELECT u.email, coalesce(sum(v.total_orders), 0) AS orders "
            "FROM vendor_members m JOIN users u ON u.id = m.user_id "
            "LEFT JOIN vendor_monthly_volumes v ON v.vendor_id = m.vendor_id "
            "WHERE m.role = 'owner' GROUP BY u.email ORDER BY orders DESC"
        )
    ).all()
    top, rest = rows[:largest], rows[largest:]
    return [tuple(row) for row in top + random.Random(seed).sample(rest, size - largest)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(app, owners, path: str, repeats: int) -> list[float]:
    timings = []
    for email, _ in owners:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
        assert response.status_code == 302, (email, response.status_code)
        client.get(path)  # the first request of a session warms its connection
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    return timings


def report(label: str, timings: list[float]) -> None:
    print(
        f"{label:<28} n={len(timings):<5} p50={statistics.median(timings):6.1f} ms  "
        f"p95={percentile(timings, 0.95):6.1f} ms  p99={percentile(timings, 0.99):6.1f} ms  "
        f"max={max(timings):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--largest", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)

    app = bench_app(args.database_url)
    with app.app_context():
        upgrade()  # the data may predate the newest migration
        orders = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
        vendors = db.session.scalar(sa.text("SELECT count(*) FROM vendors"))
        records = db.session.scalar(sa.text("SELECT count(*) FROM commission_records"))
        owners = sample_owners(args.shops, args.largest)
        db.session.remove()
    print(f"data: {vendors:,} vendors, {orders:,} orders, {records:,} commission records")
    print(f"sample: {len(owners)} shops, largest with {owners[0][1]:,} orders in the volumes")
    report("vendor dashboard /vendor/", measure(app, owners, "/vendor/", args.repeats))
    report(
        "statement /vendor/commissions/", measure(app, owners, "/vendor/commissions/", args.repeats)
    )


if __name__ == "__main__":
    main()
