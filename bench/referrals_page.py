"""Time the vendor's referrals page for a shop with 1,000,000 referral visits, over HTTP, beside a
hello-world page served the same way, one request at a time.

    .venv/bin/python -m bench.referrals_page --generate      # build its database, measure
    .venv/bin/python -m bench.referrals_page                 # measure again on the same data
    .venv/bin/python -m bench.referrals_page --write         # ... and put it in docs/performance.md

Its own database (``portal_bench_referrals_page``; the name must contain "bench"; not
``portal_bench_referrals``, the ``/r/<code>`` benchmark's), dropped, created and migrated by
``--generate``: one shop, and ``--visits`` ``shop_referrals`` rows over ``--days``
days up to now, made set-based with ``generate_series``: UTM triples from 8 sources x 3 media x
6 campaigns (and one visit in eleven without any), one visit in 33 converted a few days after it
came, with its lifetime value and orders. ``referral_daily_stats`` is built from those rows as
the attribution code would count them (visits on the visit's day, under the visit's UTM values;
a conversion, its orders and revenue on the conversion's day, where the code counts them on the
visit's: only the number of daily rows matters to the page's speed), and its triggers fill
the monthly and per-day sums the page reads. No visit is deleted: the page is measured with every
unconverted row still there, the worst case before retention.

Two gunicorn servers run side by side as ``bench.pages`` runs them (``scripts/gunicorn.conf.py``):
the portal on this database and ``bench.hello``. Signed in as the shop's owner, each period of the
page and the hello-world page are requested in turn, ``--requests`` times per run; p50 and p99 per
run, the load average before and after, and the plans of the page's statements for "All time"
(``EXPLAIN (ANALYZE, BUFFERS)``) are printed.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.generate import BENCH_PASSWORD, bench_app, create_schema
from bench.pages import Workers, one_at_a_time, sequential_rows, served, sign_in
from portal.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench.referrals_page: begin -->", "<!-- bench.referrals_page: end -->"
DEFAULT_DATABASE_URL = (
    "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_referrals_page"
)
OWNER_EMAIL = "referrals-owner@bench.example"
SOURCES = ["instagram", "facebook", "newsletter", "tiktok", "flyer", "google", "partner", "qr"]
MEDIA = ["social", "email", "print"]
CAMPAIGNS = ["spring", "summer", "autumn", "winter", "launch", "always-on"]


def run(label: str, sql: str, params: dict) -> None:
    """One set-based step, committed. Not ``bench.generate.Steps``: that one turns triggers off
    for its bulk loads, and the rollups of ``referral_daily_stats`` are kept by triggers."""
    began = time.monotonic()
    rows = db.session.execute(sa.text(sql), params).rowcount
    db.session.commit()
    print(f"  {label:<46} {rows:>10,} rows  {time.monotonic() - began:6.1f} s", flush=True)


def generate(database_url: str, visits: int, days: int) -> None:
    from portal.auth.services import register_vendor
    from portal.vendors.services import vendor_for_user

    app = bench_app(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    create_schema(app, (now - timedelta(days=days)).date().replace(day=1))
    with app.app_context():
        owner = register_vendor(
            email=OWNER_EMAIL,
            password=BENCH_PASSWORD,
            shop_name="Referral Bench Shop",
            vendor_type="shop",
            contact_phone="+1 555 0100",
        )
        shop = vendor_for_user(owner)
        db.session.commit()
        params = {
            "shop": shop.id,
            "code": shop.referral_code,
            "visits": visits,
            "now": now.replace(tzinfo=None),  # the columns hold naive UTC
            "seconds": days * 86400,
            "sources": SOURCES,
            "media": MEDIA,
            "campaigns": CAMPAIGNS,
        }
        # Visit i came (i * 7919 mod visits) / visits of the way through the days: every day has
        # visits, in no order of i. A converted visit converted 0 to 6 days later, never after now.
        run(
            "shop_referrals",
            """
            INSERT INTO shop_referrals (shop_id, session_id, referral_code, utm_source,
                utm_medium, utm_campaign, first_visit_at, converted_at, lifetime_value,
                total_orders)
            SELECT :shop, md5('visit' || i), :code,
                   CASE WHEN i % 11 > 0 THEN (CAST(:sources AS text[]))[1 + i % 8] END,
                   CASE WHEN i % 11 > 0 THEN (CAST(:media AS text[]))[1 + (i / 8) % 3] END,
                   CASE WHEN i % 11 > 0 THEN (CAST(:campaigns AS text[]))[1 + (i / 24) % 6] END,
                   v.at,
                   CASE WHEN i % 33 = 0
                        THEN least(v.at + (i % 7) * interval '1 day', CAST(:now AS timestamp)) END,
                   CASE WHEN i % 33 = 0 THEN 15 + (i % 200) ELSE 0 END,
                   CASE WHEN i % 33 = 0 THEN 1 + i % 3 ELSE 0 END
            FROM generate_series(1, :visits) i,
                 LATERAL (SELECT CAST(:now AS timestamp) - ((i::bigint * 7919) % :visits)
                                 * (CAST(:seconds AS float8) / :visits) * interval '1 second'
                                 AS at) v
            """,
            params,
        )
        run(
            "referral_daily_stats: visits",
            """
            INSERT INTO referral_daily_stats (shop_id, day, utm_source, utm_medium, utm_campaign,
                visits, conversions, orders, revenue)
            SELECT shop_id, first_visit_at::date, coalesce(utm_source, ''),
                   coalesce(utm_medium, ''), coalesce(utm_campaign, ''), count(*), 0, 0, 0
            FROM shop_referrals WHERE shop_id = :shop GROUP BY 1, 2, 3, 4, 5
            """,
            params,
        )
        run(
            "referral_daily_stats: conversions",
            """
            INSERT INTO referral_daily_stats AS d (shop_id, day, utm_source, utm_medium,
                utm_campaign, visits, conversions, orders, revenue)
            SELECT shop_id, converted_at::date, coalesce(utm_source, ''),
                   coalesce(utm_medium, ''), coalesce(utm_campaign, ''), 0, count(*),
                   sum(total_orders), sum(lifetime_value)
            FROM shop_referrals WHERE shop_id = :shop AND converted_at IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (shop_id, day, utm_source, utm_medium, utm_campaign) DO UPDATE
            SET conversions = EXCLUDED.conversions, orders = EXCLUDED.orders,
                revenue = EXCLUDED.revenue
            """,
            params,
        )
    # VACUUM sets the visibility map, so index-only scans skip the heap as they would on a table
    # autovacuum has been through.
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM ANALYZE shop_referrals"))
        for table in ("referral_daily_stats", "referral_monthly_stats", "referral_shop_days"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    engine.dispose()


def data_size(database_url: str) -> dict:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        size = connection.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM shop_referrals) AS visits,"
                " (SELECT count(*) FROM shop_referrals WHERE converted_at IS NOT NULL)"
                "   AS converted,"
                " (SELECT count(*) FROM referral_daily_stats) AS daily_rows,"
                " (SELECT min(day) FROM referral_daily_stats) AS first_day"
            )
        ).one()
    engine.dispose()
    return size._asdict()


def plans(database_url: str, period_key: str) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of every statement the page's report sends for a period."""
    from portal.referrals.report import referral_report, report_period
    from portal.vendors.models import Vendor

    app = bench_app(database_url)
    out = []
    with app.app_context():
        shop = db.session.scalar(sa.select(Vendor).where(Vendor.name == "Referral Bench Shop"))
        seen: list[tuple[str, object]] = []

        def remember(conn, cursor, statement, parameters, context, executemany):
            seen.append((statement, parameters))

        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", remember)
        referral_report(shop.id, report_period(period_key))
        sa.event.remove(engine, "before_cursor_execute", remember)
        connection = db.session.connection().connection.driver_connection
        for statement, parameters in seen:
            rows = connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            out.append(statement.strip())
            out += ["    " + row[0] for row in rows]
            out.append("")
        db.session.rollback()
    return "\n".join(out)


def cpu_per_request(database_url: str, pages: dict[str, str], count: int) -> dict[str, float]:
    """CPU milliseconds per request of each page called in-process (``bench.profile_page``'s way:
    no server, no network, PostgreSQL not counted), the fastest of five batches: on a shared,
    loaded machine wall time measures the neighbours too, CPU time far less."""
    from werkzeug.test import EnvironBuilder

    from bench.hello import app as hello_app
    from bench.profile_page import cpu_ms_per_call, signed_in_environ

    portal = bench_app(database_url)
    environs = {
        name: (portal, signed_in_environ(portal, OWNER_EMAIL, path))
        for name, path in pages.items()
        if "fragment" not in name
    }
    environs["hello-world"] = (hello_app, EnvironBuilder(path="/").get_environ())
    result = {}
    for name, (app, environ) in environs.items():
        cpu_ms_per_call(app, environ, 20)  # warm: templates compiled, statements prepared
        result[name] = min(cpu_ms_per_call(app, environ, count) for _ in range(5))
    return result


def pages_to_time() -> dict[str, str]:
    month = (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {
        "referrals, last 3 months (the default)": "/vendor/referrals/",
        "referrals, last 12 months": "/vendor/referrals/?period=12m",
        f"referrals, one month ({month})": f"/vendor/referrals/?period={month}",
        "referrals, all time": "/vendor/referrals/?period=all",
        "referrals, all time, the period picker's fragment": "/vendor/referrals/?period=all",
        # Another vendor page of the same shop (no orders: its shell and its few statements),
        # for what any vendor page costs at this moment of the machine.
        "the shop's dashboard, for comparison": "/vendor/",
    }


def measure(args) -> dict:
    from bench.pages import migrate

    migrate(args.database_url)
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PORTAL_ENV": "development",
        "SESSION_COOKIE_SECURE": "0",
    }
    pages = pages_to_time()
    workers = Workers(workers=args.workers)
    loads = [os.getloadavg()]
    with (
        served("portal:create_app()", workers, env, ROOT) as (portal, _),
        served("bench.hello:app", workers, {}, ROOT) as (hello, _),
    ):
        session = sign_in(portal, OWNER_EMAIL)
        fragment = requests.Session()
        fragment.cookies.update(session.cookies)
        fragment.headers.update({**session.headers, "HX-Request": "true"})
        targets = {
            name: (fragment if "fragment" in name else session, portal + path)
            for name, path in pages.items()
        }
        targets["hello-world"] = (requests.Session(), hello + "/")
        runs = []
        for _ in range(args.repeats):
            runs.append(one_at_a_time(targets, args.requests))
            loads.append(os.getloadavg())
    cpu = cpu_per_request(args.database_url, pages, max(20, args.requests // 3))
    return {"runs": runs, "workers": workers, "loads": loads, "cpu": cpu}


def tables(result: dict, size: dict, args) -> str:
    runs = result["runs"]
    loads = ", ".join(f"{one[0]:.2f}" for one in result["loads"])
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.referrals_page` "
        f"({result['workers'].label()}; {len(runs)} runs of {args.requests} requests per page; "
        f"one shop with {size['visits']:,} visits, {size['converted']:,} converted, "
        f"{size['daily_rows']:,} daily rows since {size['first_day']}). Load average (1 min) "
        f"before and after each run: {loads} (2 cores, shared with other sessions).",
        "",
        "One request at a time, each page in turn with the hello-world page (the median over the "
        "runs, and in brackets the lowest and the highest run):",
        "",
        *sequential_rows(runs),
        "",
        "CPU time per request in-process (the WSGI app called directly, as `bench.profile_page` "
        "does; PostgreSQL's share not counted, its statements' plans print with `--plans`), the "
        "fastest of five batches:",
        "",
        "| page | CPU per request | hello-world's over it |",
        "| --- | ---: | ---: |",
    ]
    hello = result["cpu"]["hello-world"]
    for name, ms in result["cpu"].items():
        ratio = "" if name == "hello-world" else f"{hello / ms:.1%}"
        lines.append(f"| {name} | {ms:.2f} ms | {ratio} |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    docs = DOCS.read_text()
    start, stop = docs.index(BEGIN) + len(BEGIN), docs.index(END)
    DOCS.write_text(docs[:start] + "\n" + text + "\n" + docs[stop:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--generate", action="store_true", help="rebuild the database first")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730, help="the visits' span, up to now")
    parser.add_argument("--requests", type=int, default=300, help="per page and run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plans", action="store_true", help="print the plans for 'All time'")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.database_url, args.visits, args.days)
    size = data_size(args.database_url)
    if args.plans:
        print(plans(args.database_url, "all"))
    text = tables(measure(args), size, args)
    print(text)
    if args.write:
        write_docs(text)


if __name__ == "__main__":
    main()
