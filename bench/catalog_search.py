"""Time the storefront's catalog search over 100,000 master products, over HTTP, beside a
hello-world page served the same way and beside the search's bare SQL.

    .venv/bin/python -m bench.catalog_search --generate      # build its database, measure
    .venv/bin/python -m bench.catalog_search                 # measure again on the same data
    .venv/bin/python -m bench.catalog_search --write         # ... and put it in docs/performance.md

Its own database (``portal_bench_storefront``; the name must contain "bench"), dropped, created and
migrated by ``--generate``, then filled by ``bench.catalog_data``: ``--masters`` master products
with marketplace-like names over 24 categories and 240 brands, 6% of them offered by no shop.

Two gunicorn servers run side by side as ``bench.pages`` runs them (``scripts/gunicorn.conf.py``):
the portal on this database and ``bench.hello``. No sign-in: the storefront is public. Each search
of ``SEARCHES`` (words, filters, sorts, deep pages, a typo, the HTMX fragment) and the hello-world
page are requested in turn, ``--requests`` times per run. Then, in-process, the search service's
statements alone (``search_catalog``, the same call the page makes, timed with its database
round trips and no HTTP or template), the second baseline. p50 and p99 of each, the ratio to
hello-world's p99 and the load average are printed; ``--plans`` prints each statement's plan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import requests
import sqlalchemy as sa

from bench.generate import bench_app, recreate_database
from bench.pages import (
    ServerCpu,
    Workers,
    one_at_a_time,
    percentile,
    served,
    spread,
    write_docs,
)
from portal.extensions import db

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench.catalog_search: begin -->", "<!-- bench.catalog_search: end -->"
DEFAULT_DATABASE_URL = (
    "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_storefront"
)


def searches(category_id: str, brand_id: str, model: str) -> dict[str, dict[str, str]]:
    """The searches timed: name -> query-string arguments of ``/catalog/``."""
    return {
        "browse, most shops (the default)": {},
        "browse, price low to high, page 40": {"sort": "price", "page": "40"},
        "browse, newest, one category": {"sort": "newest", "category": category_id},
        "one word: headphones": {"q": "headphones"},
        "two words: wireless headphones": {"q": "wireless headphones"},
        "typing: head": {"q": "head"},
        "a common word: black": {"q": "black"},
        "a common word, price high to low, page 30": {"q": "black", "sort": "-price", "page": "30"},
        "a model number": {"q": model},
        "words, category and brand": {"q": "wireless", "category": category_id, "brand": brand_id},
        "a typo: hedphones (close matches)": {"q": "hedphones"},
        "nothing found: zzqx": {"q": "zzqx"},
        "the search box's fragment (HTMX): coffee": {"q": "coffee", "fragment": "1"},
    }


def generate(database_url: str, masters: int) -> None:
    from flask_migrate import upgrade

    from bench.catalog_data import load

    app = bench_app(database_url)
    recreate_database(database_url)
    began = time.monotonic()
    with app.app_context():
        upgrade()
        load(masters)
        total, offered = db.session.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE vendor_count > 0) FROM master_products"
            )
        ).one()
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # The visibility map set, as autovacuum would have left a table this old.
        connection.execute(sa.text("VACUUM ANALYZE master_products"))
    engine.dispose()
    print(f"  {total:,} masters, {offered:,} offered  {time.monotonic() - began:6.1f} s")


def picks(database_url: str) -> tuple[str, str, str]:
    """A category, a brand of it with offered masters, and an offered master's model number."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT c.id AS category, m.brand_id AS brand, m.attributes->>'model' AS model"
                " FROM master_products m JOIN product_categories c ON c.id = m.category_id"
                " WHERE m.vendor_count > 0 AND c.name = 'Headphones'"
                " ORDER BY m.id LIMIT 1"
            )
        ).one()
    engine.dispose()
    return str(row.category), str(row.brand), row.model


def data_size(database_url: str) -> dict:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        size = connection.execute(
            sa.text(
                "SELECT count(*) AS masters, count(*) FILTER (WHERE vendor_count > 0) AS offered,"
                " (SELECT count(*) FROM brands) AS brands,"
                " (SELECT count(*) FROM product_categories) AS categories"
                " FROM master_products"
            )
        ).one()
    engine.dispose()
    return size._asdict()


def url_of(args: dict[str, str]) -> str:
    query = {k: v for k, v in args.items() if k != "fragment"}
    return "/catalog/" + ("?" + urlencode(query) if query else "")


def sql_timings(database_url: str, timed: dict, count: int, plans: bool) -> dict[str, list[float]]:
    """Milliseconds per call of the search service alone (its statements and their round trips,
    no request, no template), each search in turn, ``count`` rounds after five warm ones."""
    from werkzeug.datastructures import MultiDict

    from portal.storefront.search import CatalogQuery, search_catalog

    app = bench_app(database_url)
    result: dict[str, list[float]] = {name: [] for name in timed if "fragment" not in name}
    with app.app_context():
        per_page = app.config["STOREFRONT_PER_PAGE"]
        max_results = app.config["STOREFRONT_MAX_RESULTS"]
        queries = {name: CatalogQuery.from_args(MultiDict(timed[name])) for name in result}
        if plans:
            print_plans(queries, per_page, max_results)
        for round_number in range(count + 5):
            for name, query in queries.items():
                started = time.perf_counter()
                search_catalog(query, per_page=per_page, max_results=max_results)
                db.session.rollback()  # one transaction per request, as the page has
                if round_number >= 5:
                    result[name].append((time.perf_counter() - started) * 1000)
    return result


def print_plans(queries: dict, per_page: int, max_results: int) -> None:
    from portal.storefront.search import search_catalog

    engine = db.engine
    seen: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    for name, query in queries.items():
        seen.clear()
        sa.event.listen(engine, "before_cursor_execute", remember)
        search_catalog(query, per_page=per_page, max_results=max_results)
        sa.event.remove(engine, "before_cursor_execute", remember)
        connection = db.session.connection().connection.driver_connection
        print(f"## {name}")
        for statement, parameters in seen:
            head = statement.lstrip().upper()
            if head.startswith(("SELECT SET_CONFIG", "SET ")):  # settings: run, not explained
                connection.execute(statement, parameters)
                continue
            rows = connection.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            print(statement.strip())
            print("\n".join("    " + row[0] for row in rows))
            print()
        db.session.rollback()


def measure(args) -> dict:
    from bench.pages import migrate

    migrate(args.database_url)
    timed = searches(*picks(args.database_url))
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PORTAL_ENV": "development",
        "SESSION_COOKIE_SECURE": "0",
    }
    workers = Workers(workers=args.workers)
    loads = [os.getloadavg()]
    with (
        served("portal:create_app()", workers, env, ROOT) as (portal, portal_pid),
        served("bench.hello:app", workers, {}, ROOT) as (hello, hello_pid),
    ):
        page = requests.Session()
        fragment = requests.Session()
        fragment.headers.update({"HX-Request": "true"})
        targets = {
            name: (fragment if "fragment" in query else page, portal + url_of(query))
            for name, query in timed.items()
        }
        targets["hello-world"] = (requests.Session(), hello + "/")
        runs = []
        for _ in range(args.repeats):
            runs.append(one_at_a_time(targets, args.requests))
            loads.append(os.getloadavg())
        servers = {
            name: ServerCpu(hello_pid)
            if name == "hello-world"
            else ServerCpu(portal_pid, database_url=args.database_url)
            for name in targets
        }
        cpu = {
            name: cpu_per_request(*targets[name], servers[name], args.requests) for name in targets
        }
    sql = sql_timings(args.database_url, timed, args.requests, args.plans)
    return {"runs": runs, "workers": workers, "loads": loads, "sql": sql, "cpu": cpu}


def cpu_per_request(session: requests.Session, url: str, server: ServerCpu, count: int) -> float:
    """CPU milliseconds per request of the server's workers and its PostgreSQL backends, over
    ``count`` requests of ``url`` one at a time: unlike wall time, it hardly depends on what
    else the shared machine runs."""
    before = sum(server.seconds())
    for _ in range(count):
        session.get(url, allow_redirects=False).raise_for_status()
    return (sum(server.seconds()) - before) * 1000 / count


def tables(result: dict, size: dict, args) -> str:
    runs = result["runs"]
    loads = ", ".join(f"{one[0]:.2f}" for one in result["loads"])
    hello_p99 = [percentile(run["hello-world"], 0.99) for run in runs]
    sql = result["sql"]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.catalog_search` "
        f"({result['workers'].label()}; {len(runs)} runs of {args.requests} requests per search; "
        f"{size['masters']:,} master products, {size['offered']:,} offered, {size['brands']:,} "
        f"brands, {size['categories']:,} categories). Load average (1 min) before and after each "
        f"run: {loads} (2 cores, shared with other sessions).",
        "",
        "Each search over HTTP, one request at a time, in turn with the hello-world page (the "
        "median over the runs, and in brackets the lowest and the highest run); then the search "
        "service's statements alone, in-process (`search_catalog`, its database round trips, no "
        "request or template), the bare-SQL baseline. Server CPU per request: the gunicorn "
        "workers' and (for the portal) their PostgreSQL backends' CPU time over as many "
        "requests more, read from `/proc`:",
        "",
        "| search | p50 | p99 | p99 / hello-world's p99 | server CPU per request | SQL p50 "
        "| SQL p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    cpu = result["cpu"]
    for name in runs[0]:
        p50 = [statistics.median(run[name]) for run in runs]
        p99 = [percentile(run[name], 0.99) for run in runs]
        if name == "hello-world":
            lines.append(
                f"| {name} | {spread(p50, unit=' ms')} | {spread(p99, unit=' ms')} | "
                f"| {cpu[name]:.2f} ms | | |"
            )
            continue
        ratio = spread([a / b for a, b in zip(p99, hello_p99, strict=True)], unit=" x")
        statements = sql.get(name)
        sql_cells = (
            f"{statistics.median(statements):.1f} ms | {percentile(statements, 0.99):.1f} ms"
            if statements
            else "(as above) | "
        )
        lines.append(
            f"| {name} | {spread(p50, unit=' ms')} | {spread(p99, unit=' ms')} | {ratio} "
            f"| {cpu[name]:.2f} ms | {sql_cells} |"
        )
    worst = max(
        (percentile(run[name], 0.99), name) for run in runs for name in run if name != "hello-world"
    )
    lines += ["", f"Highest p99 of any search in any run: {worst[0]:.1f} ms ({worst[1]})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--generate", action="store_true", help="rebuild the database first")
    parser.add_argument("--masters", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="per search and run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plans", action="store_true", help="print each statement's plan")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.database_url, args.masters)
    size = data_size(args.database_url)
    text = tables(measure(args), size, args)
    print(text)
    if args.write:
        write_docs(text, BEGIN, END)


if __name__ == "__main__":
    main()
