"""Drivers' position pings under load, beside a minimal Flask endpoint served the same way.

    .venv/bin/python -m bench.pings                  # measure, print the table
    .venv/bin/python -m bench.pings --write          # ... and put it in docs/performance.md

In one run, on loopback:

1. a scratch database (``portal_bench_pings``, migrated) with ``--drivers`` verified drivers online;
2. two gunicorns with the settings ``scripts/run.sh`` uses (``scripts/gunicorn.conf.py``): the
   portal, and ``bench.hello`` (whose ``POST /ping`` reads the JSON body and answers 202);
3. the worker (``worker.py --no-scheduler``), whose thread applies the pings from the Redis stream;
4. ``wrk`` with a Lua script POSTing pings, each with a driver's signed token and a capture time
   that grows per driver (the drivers are split between wrk's threads), first to the portal's
   ``/driver-positions``, then the same bodies to the hello endpoint, ``--repeats`` times each,
   alternating, so both see the same moments of a shared machine.

Then it checks that nothing was lost or applied out of order: every ping the stream took is one
history row, and each driver's ``current_location`` is their ping with the latest capture time;
and reports the lag (applied - received) of the history rows, and how long the worker took to
apply the backlog after the load stopped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.pages import (
    DOCS,
    ROOT,
    WRK_DONE,
    WRK_ERRORS,
    WRK_RATE,
    Workers,
    percentile,
    served,
)

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_bench_pings"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
PREFIX = "bench-pings"
BEGIN, END = "<!-- bench.pings: begin -->", "<!-- bench.pings: end -->"

LUA = """
local tokens = {%(tokens)s}
local per_thread = %(per_thread)d
local threads = %(threads)d
local base = %(base)d
local counter = 0
local n = 0
function setup(thread)
  thread:set("tid", n)
  n = n + 1
end
function request()
  counter = counter + 1
  local i = (counter %% per_thread) * threads + tid + 1
  local lat = 45.5 + (counter %% 997) / 100000
  local lng = -122.6 - (counter %% 991) / 100000
  local body = string.format('{"token":"%%s","lat":%%.6f,"lng":%%.6f,"captured_at":%%d}',
                             tokens[i], lat, lng, base + counter)
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json"}, body)
end
"""


def migrated_scratch(database_url: str) -> None:
    """The benchmark database at ``database_url`` dropped, created and migrated."""
    from bench.pages import migrate

    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    migrate(database_url)


def scratch_database(drivers: int, database_url: str) -> list[str]:
    """A migrated scratch database with ``drivers`` verified drivers online; their ids."""
    migrated_scratch(database_url)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        ids = list(
            conn.execute(
                sa.text(
                    "INSERT INTO drivers (full_name, phone, email, vehicle_type, license_number,"
                    " insurance_verified, background_check_status, status)"
                    " SELECT 'Bench driver ' || n, '+1 503 555 0100', 'bench-driver-' || n ||"
                    " '@example.com', 'bicycle', 'B' || n, true, 'clear', 'available'"
                    " FROM generate_series(1, :n) AS n RETURNING id"
                ),
                {"n": drivers},
            ).scalars()
        )
    engine.dispose()
    return [str(i) for i in ids]


def tokens_for(driver_ids: list[str], env: dict) -> tuple[list[str], str]:
    os.environ.update(env)
    from portal import create_app
    from portal.deliveries import positions

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "REDIS_URL": env["REDIS_URL"],
            "RQ_KEY_PREFIX": PREFIX,
        }
    )
    with app.app_context():

        class _D:
            def __init__(self, i):
                self.id = i

        return [positions.position_token(_D(i)) for i in driver_ids], positions.stream_key(app)


def wrk(
    url: str,
    script: Path | None,
    connections: int,
    seconds: int,
    threads: int,
    headers: dict[str, str] | None = None,
) -> tuple[float, int]:
    """(requests/s, requests done) of ``wrk`` on ``url``, with its Lua ``script`` and/or
    ``headers``; refuses a run with errors."""
    flags = [item for name, value in (headers or {}).items() for item in ("-H", f"{name}: {value}")]
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            *(["-s", str(script)] if script else []),
            *flags,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    if WRK_ERRORS.search(output):
        raise RuntimeError("wrk saw errors:\n" + output)
    return float(WRK_RATE.search(output).group(1)), int(WRK_DONE.search(output).group(1))


def wait_for_consumer(client: redis.Redis, key: str, worker: subprocess.Popen) -> None:
    """Until the worker's consumer reads the stream (its group has a consumer): the worker's
    start-up is not counted as lag."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError("the worker stopped")
        try:
            if any(group["consumers"] for group in client.xinfo_groups(key)):
                return
        except redis.ResponseError:  # no stream yet
            pass
        time.sleep(0.2)
    raise RuntimeError("the worker's position consumer did not start")


def check_applied(stream_total: int, engine) -> dict:
    """Wait until the worker applied the stream; then nothing lost, nothing out of order."""
    started = time.monotonic()
    while True:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM driver_positions")).scalar()
        if rows >= stream_total or time.monotonic() - started > 120:
            break
        time.sleep(0.05)
    drain_seconds = time.monotonic() - started
    with engine.connect() as conn:
        wrong = conn.execute(
            sa.text(
                "SELECT count(*) FROM drivers d JOIN LATERAL ("
                "  SELECT captured_at, position FROM driver_positions p"
                "  WHERE p.driver_id = d.id ORDER BY captured_at DESC LIMIT 1) last ON true"
                " WHERE d.location_captured_at IS DISTINCT FROM last.captured_at"
                "    OR NOT ST_Equals(d.current_location::geometry, last.position::geometry)"
            )
        ).scalar()
        lags = [
            float(v)
            for v in conn.execute(
                sa.text(
                    "SELECT extract(epoch FROM applied_at - received_at) * 1000"
                    " FROM driver_positions"
                )
            ).scalars()
        ]
    return {
        "history_rows": rows,
        "out_of_order_drivers": wrong,
        "drain_seconds": drain_seconds,
        "lag_p50_ms": statistics.median(lags) if lags else 0.0,
        "lag_p99_ms": percentile(lags, 0.99) if lags else 0.0,
        "lag_max_ms": max(lags) if lags else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drivers", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the figures into docs")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args(argv)
    if "bench" not in (make_url(args.database_url).database or ""):
        parser.error("refusing: the benchmark database's name must contain 'bench'")
    if args.drivers % args.threads:
        parser.error("--drivers must be a multiple of --threads")

    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "RQ_KEY_PREFIX": PREFIX,
        "PORTAL_ENV": "development",
        "GUNICORN_ACCESS_LOG": "/dev/null",
    }
    driver_ids = scratch_database(args.drivers, args.database_url)
    tokens, key = tokens_for(driver_ids, env)
    client = redis.Redis.from_url(args.redis_url)
    client.delete(key)
    # Capture times within the endpoint's window (POSITION_MAX_AGE_SECONDS, an hour back): each
    # repeat's start 5 minutes after the previous one's (at most 6 repeats).
    base = int(time.time() * 1000) - 1_800_000
    if args.repeats > 6:
        parser.error("--repeats: at most 6")

    # The settings scripts/run.sh serves with (scripts/gunicorn.conf.py and its environment).
    workers = Workers(
        os.environ.get("GUNICORN_WORKER_CLASS", "sync"),
        int(os.environ.get("GUNICORN_WORKERS", "4")),
        int(os.environ.get("GUNICORN_THREADS", "1")),
    )
    servers = ExitStack()
    portal_base, _ = servers.enter_context(served("portal:create_app()", workers, env, ROOT))
    hello_base, _ = servers.enter_context(served("bench.hello:app", workers, env, ROOT))
    worker = subprocess.Popen(
        [sys.executable, "worker.py", "--no-scheduler"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_consumer(client, key, worker)
    engine = sa.create_engine(args.database_url)
    results = {"portal": [], "hello": []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for repeat in range(args.repeats):
                for name, base_url, path in (
                    ("portal", portal_base, "/driver-positions"),
                    ("hello", hello_base, "/ping"),
                ):
                    script = Path(folder) / f"{name}-{repeat}.lua"
                    # Each run's capture times start after the previous run's.
                    start = base + repeat * 300_000
                    script.write_text(
                        LUA
                        % {
                            "tokens": ",".join(f'"{t}"' for t in tokens),
                            "per_thread": args.drivers // args.threads,
                            "threads": args.threads,
                            "base": start,
                            "path": path,
                        }
                    )
                    rate, done = wrk(
                        f"{base_url}{path}",
                        script,
                        args.connections,
                        args.seconds,
                        args.threads,
                    )
                    results[name].append((rate, done))
        stream_total = client.xlen(key)
        applied = check_applied(stream_total, engine)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        servers.close()
        engine.dispose()

    portal_rates = [r for r, _ in results["portal"]]
    hello_rates = [r for r, _ in results["hello"]]
    ratio = statistics.median(portal_rates) / statistics.median(hello_rates)
    sent = sum(d for _, d in results["portal"])
    lost = stream_total - applied["history_rows"]
    table = render(args, portal_rates, hello_rates, ratio, sent, stream_total, applied, lost)
    print(table)
    if args.write:
        write(table)
    return 0 if lost == 0 and applied["out_of_order_drivers"] == 0 else 1


def render(args, portal_rates, hello_rates, ratio, sent, stream_total, applied, lost) -> str:
    cpus = os.cpu_count()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs = lambda rates: ", ".join(f"{r:,.0f}" for r in rates)  # noqa: E731
    return "\n".join(
        [
            f"Measured {when} on a shared, noisy machine ({cpus} cores, other sessions running), "
            f"`python -m bench.pings --seconds {args.seconds} --connections {args.connections} "
            f"--drivers {args.drivers} --repeats {args.repeats}`: gunicorn as `scripts/run.sh` "
            "serves the portal (`scripts/gunicorn.conf.py`), the worker applying the stream "
            "meanwhile.",
            "",
            "| endpoint | requests/s (each run) | median |",
            "| --- | ---: | ---: |",
            f"| `POST /driver-positions` (token check, `XADD`) | {runs(portal_rates)} | "
            f"{statistics.median(portal_rates):,.0f} |",
            f"| minimal Flask `POST /ping` (`bench.hello`) | {runs(hello_rates)} | "
            f"{statistics.median(hello_rates):,.0f} |",
            "",
            f"- Ratio (median portal ÷ median hello): **{ratio:.2f}** (target ≥ 0.5); wrk saw no "
            "errors (a non-2xx answer or a socket error stops the benchmark).",
            f"- Pings answered 202 (wrk's count, in-flight ones at the end not counted): {sent:,}; "
            f"taken by the stream: {stream_total:,}; history rows applied: "
            f"{applied['history_rows']:,}; lost: {lost}.",
            f"- Drivers whose `current_location` is not their latest capture: "
            f"{applied['out_of_order_drivers']} of {args.drivers}.",
            "- Lag (applied - received) of the history rows: "
            f"p50 {applied['lag_p50_ms']:,.0f} ms, p99 {applied['lag_p99_ms']:,.0f} ms, "
            f"max {applied['lag_max_ms']:,.0f} ms; the "
            "backlog left when the load stopped was applied "
            f"{applied['drain_seconds']:.1f} s later.",
        ]
    )


def write(table: str) -> None:
    write_section(table, BEGIN, END, "Driver position pings", SECTION_INTRO)


def write_section(table: str, begin: str, end: str, title: str, intro: str) -> None:
    """Replace the figures between ``begin`` and ``end`` in docs/performance.md, or add them in a
    new section ``title`` with its ``intro``."""
    text = DOCS.read_text()
    block = f"{begin}\n{table}\n{end}"
    if begin in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text.rstrip() + f"\n\n## {title}\n\n" + intro + "\n\n" + block + "\n"
    DOCS.write_text(text)


SECTION_INTRO = (
    "A synchronous database write per ping cannot keep up, so `POST /driver-positions` checks a "
    "signed per-driver token (no session, no user query, no database at all) and appends the ping "
    "to a Redis stream (`XADD … MAXLEN ~`); the worker applies the stream in batches "
    "(`XREADGROUP`, one `INSERT … SELECT` into the history and one set-based `UPDATE` of "
    "`drivers.current_location` per batch, newest capture per driver only). `bench/pings.py` "
    "loads it beside a minimal Flask endpoint served the same way."
)


if __name__ == "__main__":
    raise SystemExit(main())
