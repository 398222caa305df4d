"""Time a payout run over every vendor of the benchmark database, against the local Stripe server.

    .venv/bin/python -m bench.payout_run                        # 10,000 vendors, ~1,000,000 records
    .venv/bin/python -m bench.payout_run --database-url ...     # another benchmark database

Before measuring it puts the data in the state a weekly run meets: every commission record
``settled`` and in no payout; no payouts, runs or holds; every vendor with an onboarded connected
account. The accounts are made on a local Stripe server it starts as a process of its own (so
the run and the server do not share one interpreter), through Stripe's API and the server's
control API, like onboarding would; that setup is not timed. Mail goes to the Redis database of
``--redis-url`` under the prefix ``portal-bench`` and is emptied afterwards.

Then one run, its steps timed apart: grouping (the set-based SQL that makes the payouts, whose
lists claim the records, and writes the holds, with its commit), sending (one Transfer per payout
over HTTP, with the commits around each), marking (the records get their payout and become
``paid``, the one write of each record). "The database part" is grouping
plus marking; sending is reported as transfers per second.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa

from bench.generate import DEFAULT_DATABASE_URL
from portal import create_app
from portal.extensions import db
from portal.payouts import runs
from portal.payouts.gateway import gateway
from portal.queues import get_queue

API_KEY = "sk_test_bench_payouts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stripe(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal.payouts.stripe_local",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--balance",
            str(10**13),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(url + "/_control/faults", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the local Stripe server did not start")


def reset() -> None:
    """The state a weekly run meets: every record settled and unpaid, nothing paid out yet."""
    for sql in (
        "DELETE FROM payout_run_holds",
        "DELETE FROM payout_holds",
        "UPDATE commission_records SET payout_id = NULL, status = 'settled',"
        " settled_at = coalesce(settled_at, now())"
        " WHERE payout_id IS NOT NULL OR status <> 'settled'",
        "DELETE FROM payouts",
        "DELETE FROM audit_events WHERE subject_type = 'payout_run'",
        "DELETE FROM payout_runs",
        "DELETE FROM connected_accounts",
        "DELETE FROM order_disputes",
    ):
        db.session.execute(sa.text(sql))
    db.session.execute(sa.text("ANALYZE commission_records"))
    db.session.commit()


def onboard_every_vendor(url: str) -> None:
    vendor_ids = db.session.scalars(sa.text("SELECT id FROM vendors ORDER BY id")).all()
    gw = gateway()

    def one(vendor_id):
        account = gw.create_express_account(idempotency_key=f"bench-{vendor_id}")
        requests.post(f"{url}/_control/accounts/{account.id}/complete_onboarding", timeout=30)
        return vendor_id, account.id

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        accounts = list(pool.map(one, vendor_ids))
    db.session.execute(
        sa.text(
            "INSERT INTO connected_accounts (vendor_id, stripe_account_id, account_type,"
            " capabilities, charges_enabled, payouts_enabled)"
            " VALUES (:vendor, :account, 'express', '{\"transfers\": \"active\"}', true, true)"
        ),
        [{"vendor": vendor, "account": account} for vendor, account in accounts],
    )
    db.session.commit()
    print(
        f"Setup (not timed): {len(accounts):,} accounts onboarded"
        f" in {time.monotonic() - began:.0f} s"
    )


def timed(label: str, action):
    began = time.monotonic()
    result = action()
    seconds = time.monotonic() - began
    print(f"  {label:<58} {seconds:8.2f} s", flush=True)
    return seconds, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    args = parser.parse_args(argv)
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("refusing a database whose name lacks 'bench'")

    port = free_port()
    server = start_stripe(port)
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "REDIS_URL": args.redis_url,
            "RQ_KEY_PREFIX": "portal-bench",
            "STRIPE_API_BASE": url,
            "STRIPE_SECRET_KEY": API_KEY,
        }
    )
    try:
        with app.app_context():
            reset()
            onboard_every_vendor(url)
            records = db.session.scalar(sa.text("SELECT count(*) FROM commission_records"))
            vendors = db.session.scalar(
                sa.text("SELECT count(DISTINCT shop_id) FROM commission_records")
            )
            print(f"Data: {vendors:,} vendors with {records:,} settled commission records")
            print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")

            with runs.run_lock():
                run = runs.start_run(trigger="schedule")
                db.session.commit()
                grouping, _ = timed(
                    "grouping (payouts, records claimed, holds; commit)",
                    lambda: runs.group_run(run),
                )
                sending, sent = timed(
                    "sending (one Transfer per payout over HTTP)", lambda: runs.send_pending(run)
                )
                marking, _ = timed("marking the records paid", lambda: runs.mark_run_records(run))
            paid = db.session.scalar(
                sa.text("SELECT count(*) FROM payouts WHERE batch_id = :run AND status = 'paid'"),
                {"run": run.id},
            )
            marked = db.session.scalar(
                sa.text("SELECT count(*) FROM commission_records WHERE status = 'paid'")
            )
            held = db.session.scalar(
                sa.text("SELECT count(*) FROM payout_run_holds WHERE run_id = :run"),
                {"run": run.id},
            )
            print(
                f"Payouts: {sent:,} sent, {paid:,} paid; {held:,} vendors held;"
                f" {marked:,} records paid"
            )
            print(f"Database part (grouping + marking): {grouping + marking:.2f} s")
            print(f"Transfers per second: {sent / sending:.0f}")
            get_queue("default").empty()  # the payout mails this run queued
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
