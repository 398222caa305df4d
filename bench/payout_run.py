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
over HTTP, with the commits around each; the time spent in the database, the payouts' status
updates and their commits, is measured apart from the HTTP calls), and the run's finishing commit.
"The database part" of the run is grouping, sending's database time and the finish: the run
writes no commission record. Sending goes in batches of ``PAYOUT_SEND_BATCH``; its database
calls are counted and timed by kind. Then what the largest vendor's pages read in the gap (paid,
nothing marked yet): payable total, the statement's paid and settled totals, its first page, the
dashboard, the fastest of three each. Then, in the same database, baseline 1: what marking does
as one ``UPDATE ... FROM`` the payouts' lists, rolled back; the marking job as the worker would
run it next (the records get their payout and become ``paid``, in batches of
``PAYOUT_MARK_BATCH_RECORDS``), timed in total and per batch; the same page reads again (they must
read the same); and baseline 2: the bare ``UPDATE`` of the same rows back, rolled back. Each
figure is printed with the load average.
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
from portal.commissions.statements import StatementFilter, statement_page, statement_totals
from portal.extensions import db
from portal.payouts import marking, runs
from portal.payouts.gateway import gateway
from portal.payouts.payable import payable_total
from portal.queues import get_queue
from portal.tiers.dashboard import vendor_dashboard

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


def load() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def timed(label: str, action):
    began = time.monotonic()
    result = action()
    seconds = time.monotonic() - began
    print(f"  {label:<58} {seconds:8.2f} s   ({load()})", flush=True)
    return seconds, result


class DatabaseClock:
    """Seconds spent in the database while it is on, by kind of statement (reads, writes,
    commits), and how many: sending's database part, apart from its HTTP calls. Wall-clock
    time around each call, so on a loaded machine it includes waiting for a CPU."""

    def __init__(self, engine: sa.Engine):
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.on = False
        dialect = engine.dialect
        do_commit = dialect.do_commit

        def timed_commit(connection):
            began = time.perf_counter()
            try:
                do_commit(connection)
            finally:
                self._add("commits", began)

        dialect.do_commit = timed_commit
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _add(self, kind: str, began: float) -> None:
        if self.on:
            self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - began
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_began"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        kind = "reads" if statement.lstrip().upper().startswith("SELECT") else "writes"
        self._add(kind, conn.info.pop("bench_began"))

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def report(self) -> None:
        for kind in ("writes", "commits", "reads"):
            print(
                f"  {'  of which in the database: ' + kind:<58}"
                f" {self.seconds.get(kind, 0.0):8.2f} s   ({self.counts.get(kind, 0):,} calls)"
            )


def records_updated() -> int:
    """Row updates PostgreSQL counted on commission_records' partitions so far."""
    db.session.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return db.session.scalar(
        sa.text(
            "SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables"
            " WHERE relname LIKE 'commission_records%'"
        )
    )


def rolled_back(sql: str) -> int:
    """Run one statement inside a transaction that is rolled back; the rows it touched."""
    rows = db.session.connection().execute(sa.text(sql)).rowcount
    db.session.rollback()
    return rows


def pages_of_the_largest_vendor(when: str) -> dict:
    """What the vendor's pages read that the gap changes, each timed (the fastest of three, so
    one scheduling hiccup of a shared machine does not stand for the page); returns the values,
    which must not change when the records are marked."""
    vendor = db.session.scalar(
        sa.text(
            "SELECT shop_id FROM commission_records GROUP BY shop_id ORDER BY count(*) DESC LIMIT 1"
        )
    )
    today = runs.utcnow().date()
    reads = {
        "payable total of the largest vendor": lambda: payable_total(vendor),
        "its statement's paid totals": lambda: statement_totals(
            vendor, StatementFilter(status="paid")
        ),
        "its statement's settled totals": lambda: statement_totals(
            vendor, StatementFilter(status="settled")
        ),
        "its statement, first page": lambda: [
            (row.order_id, row.status) for row in statement_page(vendor, StatementFilter()).rows
        ],
        "its dashboard": lambda: vendor_dashboard(vendor, today).commission_by_status,
    }
    values = {}
    for label, read in reads.items():
        best = None
        for _ in range(3):
            began = time.monotonic()
            values[label] = read()
            seconds = time.monotonic() - began
            best = seconds if best is None else min(best, seconds)
            db.session.rollback()
        print(f"  {when + ': ' + label:<58} {best * 1000:8.1f} ms  ({load()})", flush=True)
    return values


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

            clock = DatabaseClock(db.engine)
            updates_before = records_updated()
            with runs.run_lock():
                run = runs.start_run(trigger="schedule")
                db.session.commit()
                grouping, _ = timed(
                    "grouping (payouts, records claimed, holds; commit)",
                    lambda: runs.group_run(run),
                )
                clock.on = True
                sending, sent = timed(
                    "sending (one Transfer per payout over HTTP)", lambda: runs.send_pending(run)
                )
                clock.on = False
                clock.report()
                statuses = clock.seconds.get("writes", 0.0) + clock.seconds.get("commits", 0.0)

                def finish():
                    run.status = "finished"
                    run.finished_at = runs.utcnow()
                    db.session.commit()

                finishing, _ = timed("finishing the run (commit)", finish)
            paid = db.session.scalar(
                sa.text("SELECT count(*) FROM payouts WHERE batch_id = :run AND status = 'paid'"),
                {"run": run.id},
            )
            held = db.session.scalar(
                sa.text("SELECT count(*) FROM payout_run_holds WHERE run_id = :run"),
                {"run": run.id},
            )
            time.sleep(1)  # the statistics collector's flush
            run_updates = records_updated() - updates_before
            stored_paid = db.session.scalar(
                sa.text("SELECT count(*) FROM commission_records WHERE status = 'paid'")
            )
            print(
                f"Payouts: {sent:,} sent, {paid:,} paid; {held:,} vendors held;"
                f" commission_records rows updated by the run: {run_updates:,}"
                f" (stored paid: {stored_paid:,})"
            )
            database = grouping + statuses + finishing
            print(
                f"The run's database part (grouping + sending's writes and commits + finish):"
                f" {database:.2f} s; with sending's reads too:"
                f" {database + clock.seconds.get('reads', 0.0):.2f} s"
                f" ({load()})"
            )
            print(f"Transfers per second: {sent / sending:.0f}")
            gap = pages_of_the_largest_vendor("gap")

            # Baseline 1: what marking does, as one statement: every listed record still settled
            # gets its payout's id and paid (the totals trigger fires), rolled back.
            set_based = (
                "UPDATE commission_records c SET status = 'paid', payout_id = l.payout_id"
                " FROM (SELECT id AS payout_id, unnest(commission_ids) AS record_id"
                "       FROM payouts WHERE status = 'paid') l"
                " WHERE c.id = l.record_id AND c.status = 'settled'"
            )
            set_seconds, set_rows = timed(
                "baseline 1: one UPDATE ... FROM the payouts' lists (rolled back)",
                lambda: rolled_back(set_based),
            )
            print(f"  {set_rows:,} rows")

            print("Marking, in the background (the job the run queued):")
            size = app.config["PAYOUT_MARK_BATCH_RECORDS"]
            marking_seconds, done = timed(
                f"marking the records paid, batches of {size:,}", marking.mark_paid_records
            )
            batches = sorted(done.seconds)
            print(
                f"  {done.records:,} records in {done.batches:,} batches; per batch"
                f" min {batches[0]:.2f} s, median {batches[len(batches) // 2]:.2f} s,"
                f" max {batches[-1]:.2f} s"
            )
            marked = pages_of_the_largest_vendor("marked")
            same = "the same" if marked == gap else "DIFFERENT"
            print(f"  the pages read {same} in the gap and once marked")

            bare = (
                "UPDATE commission_records SET status = 'settled', payout_id = NULL"
                " WHERE status = 'paid'"
            )
            bare_seconds, rows = timed(
                "baseline 2: bare UPDATE of the same rows back (rolled back)",
                lambda: rolled_back(bare),
            )
            print(f"  {rows:,} rows")
            print(
                f"Marking / baseline 1 (one UPDATE ... FROM) = {marking_seconds / set_seconds:.2f};"
                f" marking / baseline 2 (bare UPDATE) = {marking_seconds / bare_seconds:.2f}"
            )
            get_queue("default").empty()  # the payout mails this run queued
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
