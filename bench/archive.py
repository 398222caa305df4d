"""Time the retention archive on the benchmark database: commission months aggregated and dropped,
then order months moved to archived_orders, and how long each plain DETACH holds its ACCESS
EXCLUSIVE lock, beside a baseline measured in the same run.

    .venv/bin/python -m bench.generate --orders 200000      # the data (bench/README.md)
    .venv/bin/python -m bench.archive                        # archives every generated month

The generated months are recent, so the retention windows are set to 0 months: every finished
month counts as past them. Every commission record is marked paid first (what the payouts would
have done), so no month is kept. The baseline is the same lock on the same parent taken and
released with nothing to do (``LOCK TABLE orders IN ACCESS EXCLUSIVE MODE``, then commit): the
ratio says what the detach itself adds to the moment every reader of ``orders`` waits.
The run is destructive: generate the data again before another.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import sqlalchemy as sa

from bench.generate import DEFAULT_DATABASE_URL
from portal import create_app
from portal.extensions import db
from portal.operations import commission_retention, order_archive
from portal.operations.runs import recorded_run


def lock_baseline(table: str, repeats: int) -> float:
    """Median milliseconds to take and release ACCESS EXCLUSIVE on ``table`` doing nothing."""
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        db.session.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        db.session.commit()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--repeats", type=int, default=20, help="baseline lock repeats")
    args = parser.parse_args(argv)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "ORDER_RETENTION_MONTHS": 0,
            "COMMISSION_RETENTION_MONTHS": 0,
        }
    )
    print(
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
    with app.app_context():
        orders = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
        records = db.session.scalar(sa.text("SELECT count(*) FROM commission_records"))
        print(f"Data: {orders:,} orders, {records:,} commission records")
        db.session.execute(sa.text("UPDATE commission_records SET status = 'paid'"))
        db.session.commit()
        baseline_commission = lock_baseline("commission_records", args.repeats)
        baseline_orders = lock_baseline("orders", args.repeats)

        began = time.monotonic()
        with recorded_run("aggregate-commissions") as run:
            months = commission_retention.aggregate_old_commissions(run)
        print(f"Commission aggregation: {time.monotonic() - began:.2f} s")
        for month in months:
            print(f"  {month.line()}")

        began = time.monotonic()
        with recorded_run("archive-orders") as run:
            reports = order_archive.archive_old_orders(run)
        print(f"Order archive: {time.monotonic() - began:.2f} s")
        for report in reports:
            print(f"  {report.line()}")
            slowest = sorted(report.seconds.items(), key=lambda item: -item[1])[:4]
            if slowest:
                print("    slowest steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in slowest))

        for label, baseline, timings in (
            ("commission_records", baseline_commission, [m.detach_ms for m in months]),
            ("orders", baseline_orders, [r.detach_ms for r in reports]),
        ):
            timings = [t for t in timings if t is not None]
            if not timings:
                print(f"{label}: nothing detached")
                continue
            worst = max(timings)
            print(
                f"{label}: DETACH held ACCESS EXCLUSIVE at most {worst:.1f} ms; "
                f"baseline lock {baseline:.2f} ms; ratio {worst / baseline:.1f}"
            )
        left = db.session.scalar(sa.text("SELECT count(*) FROM orders"))
        print(
            f"Orders left live: {left:,}; archived: "
            f"{db.session.scalar(sa.text('SELECT count(*) FROM archived_orders')):,}"
        )


if __name__ == "__main__":
    main()
