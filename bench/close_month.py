"""Time the month-end close on the benchmark database: a first run, then an idempotent second run.

    .venv/bin/python -m bench.close_month                 # closes the last finished month
    .venv/bin/python -m bench.close_month --cold          # ... with its volume rows deleted first

Before measuring, the shop tiers are put back to the generator's starting state and the tier
history and close records are emptied, so every measurement starts from the same place. With
``--cold`` the month's ``vendor_monthly_volumes`` rows are deleted too: the close then inserts
every row (the state without an incremental updater), instead of confirming rows kept current.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import sqlalchemy as sa

from bench.generate import (
    DEFAULT_DATABASE_URL,
    bench_app,
    months_ending_last_finished,
    reset_shop_tiers,
    utcnow,
)
from portal.extensions import db
from portal.periods import Period
from portal.tiers.close import run_month_close
from portal.tiers.models import SHOP_TIERS


def parse_month(text: str) -> Period:
    return Period.parse(text)


def describe_data(period: Period) -> None:
    params = {"start": period.start, "end": period.end}
    orders = db.session.scalar(
        sa.text("SELECT count(*) FROM orders WHERE created_at >= :start AND created_at < :end"),
        params,
    )
    vendors = db.session.scalar(sa.text("SELECT count(*) FROM vendors"))
    all_orders = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
    print(f"Data: {vendors:,} vendors; {orders:,} orders in {period} ({all_orders:,} in all)")
    plan = db.session.execute(
        sa.text(
            "EXPLAIN SELECT vendor_id, sum(subtotal - refunded_subtotal) FROM orders "
            "WHERE created_at >= :start AND created_at < :end AND paid_at IS NOT NULL "
            "GROUP BY vendor_id"
        ),
        params,
    ).scalars()
    scanned = sorted({word for line in plan for word in line.split() if word.startswith("orders_")})
    print(f"Order partitions the close reads: {', '.join(scanned)}")


def tier_counts() -> dict[str, int]:
    rows = db.session.execute(sa.text("SELECT tier, count(*) FROM shop_tiers GROUP BY tier")).all()
    counts = dict(rows)
    return {tier: counts.get(tier, 0) for tier in SHOP_TIERS}


def timed_close(period: Period, label: str) -> None:
    began = time.monotonic()
    close = run_month_close(period.year, period.month)
    db.session.commit()
    seconds = time.monotonic() - began
    print(f"{label}: {seconds:.2f} s (close {close.summary['duration_ms']} ms + commit)")
    for key, value in close.summary.items():
        print(f"    {key.replace('_', ' ')}: {value}")
    print(f"    tiers after: {tier_counts()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--month", type=parse_month, help="YYYY-MM; default: the last finished")
    parser.add_argument("--cold", action="store_true", help="delete the month's volume rows first")
    args = parser.parse_args(argv)

    period = args.month or months_ending_last_finished(1, utcnow().date())[0]
    app = bench_app(args.database_url)
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"Machine: {machine}, Python {platform.python_version()}")
    with app.app_context():
        print(db.session.scalar(sa.text("SELECT version()")).split(",")[0])
        describe_data(period)
        reset_shop_tiers()
        db.session.execute(sa.text("DELETE FROM tier_changes"))
        db.session.execute(sa.text("DELETE FROM month_closes"))
        if args.cold:
            db.session.execute(
                sa.text("DELETE FROM vendor_monthly_volumes WHERE year = :year AND month = :month"),
                {"year": period.year, "month": period.month},
            )
        db.session.commit()
        db.session.execute(sa.text("CHECKPOINT"))
        print(f"Tiers before: {tier_counts()}")

        timed_close(
            period, f"First run ({'cold: no volume rows' if args.cold else 'volumes kept current'})"
        )
        timed_close(period, "Second run (idempotent)")


if __name__ == "__main__":
    main()
