"""Time the largest shop's vendor pages over HTTP beside a hello-world page served the same way.

    .venv/bin/python -m bench.generate --months 2       # once: 10,000 shops, 2,000,000 orders
    .venv/bin/python -m bench.pages                     # measure; print the tables
    .venv/bin/python -m bench.pages --write             # ... and put them in docs/performance.md

Two gunicorn servers run side by side on loopback with the same settings
(``scripts/gunicorn.conf.py``, as ``scripts/run.sh`` serves the portal): the portal on the
benchmark database, and ``bench.hello``. Signed in as the owner of the shop with the most
orders, the benchmark then

1. requests each vendor page and the hello-world page in turn, one request at a time (so both see
   the same moment of a shared, noisy machine), and reports p50 / p99 per page;
2. loads the dashboard and then the hello-world page with ``wrk`` (Debian's ``wrk``, a second
   process, bounded in time) at ``--connections`` concurrent connections, and reports requests per
   second, p99 and the ratio to hello-world.

Each part is repeated ``--repeats`` times; the tables give every run, so the spread is visible.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa

from bench.generate import BENCH_PASSWORD, DEFAULT_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "scripts" / "gunicorn.conf.py"
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench.pages: begin -->", "<!-- bench.pages: end -->"
PAGES = {
    "dashboard": "/vendor/",
    "orders": "/vendor/orders/",
    "statement": "/vendor/commissions/",
    "products": "/vendor/products/",
    "payouts": "/vendor/payouts/",
    "deliveries": "/vendor/deliveries/",
}
OLDER_LINK = re.compile(r'href="(/vendor/orders/\?[^"]*before=[^"]+)"')
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def largest_shop_owner(database_url: str) -> tuple[str, str, int]:
    """(owner email, shop name, orders) of the shop with the most orders."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT u.email, s.name, o.orders FROM ("
                "  SELECT vendor_id, count(*) AS orders FROM orders"
                "  GROUP BY vendor_id ORDER BY orders DESC LIMIT 1) o"
                " JOIN vendors s ON s.id = o.vendor_id"
                " JOIN vendor_members m ON m.vendor_id = o.vendor_id AND m.role = 'owner'"
                " JOIN users u ON u.id = m.user_id"
            )
        ).one()
    engine.dispose()
    return row.email, row.name, row.orders


@dataclass(frozen=True)
class Workers:
    worker_class: str = "sync"
    workers: int = 2
    threads: int = 1

    def label(self) -> str:
        threads = f" x {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn {self.worker_class}, {self.workers} workers{threads}"

    def flags(self) -> list[str]:
        return [
            f"--worker-class={self.worker_class}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(app: str, workers: Workers, env: dict[str, str], cwd: Path):
    """A gunicorn serving ``app`` on a free loopback port, as scripts/run.sh serves the portal."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(GUNICORN_CONFIG),
            f"--bind=127.0.0.1:{port}",
            *workers.flags(),
            app,
        ],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # the access log, written as run.sh writes it (to stdout)
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/", timeout=5)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn for {app} did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    form = session.get(base + "/login").text
    token = CSRF_FIELD.search(form).group(1)
    response = session.post(
        base + "/login",
        data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as {email} answered {response.status_code}")
    return session


def one_at_a_time(targets: dict[str, tuple[requests.Session, str]], rounds: int) -> dict:
    """Each target requested once per round, in turn; milliseconds per target."""
    timings: dict[str, list[float]] = {name: [] for name in targets}
    for round_number in range(rounds + 5):
        for name, (session, url) in targets.items():
            started = time.perf_counter()
            response = session.get(url, allow_redirects=False)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            if round_number >= 5:  # the first rounds warm connections and templates
                timings[name].append(elapsed)
    return timings


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*")
WRK_DONE = re.compile(r"(\d+) requests in")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def under_load(
    url: str, headers: dict[str, str], connections: int, seconds: int, server: ServerCpu
) -> Load:
    """``wrk`` on ``url``: requests per second, p99, and the server's CPU time per request;
    refuses a run with errors."""
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    workers_before, database_before = server.seconds()
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    workers_after, database_after = server.seconds()
    if WRK_ERRORS.search(output):
        raise RuntimeError("wrk saw errors:\n" + output)
    p99 = WRK_P99.search(output)
    done = int(WRK_DONE.search(output).group(1))
    return Load(
        float(WRK_RATE.search(output).group(1)),
        float(p99.group(1)) * UNIT_MS[p99.group(2)],
        (workers_after - workers_before + database_after - database_before) * 1000 / done,
        (database_after - database_before) * 1000 / done,
    )


@dataclass(frozen=True)
class Load:
    rate: float  # requests per second
    p99: float  # ms
    cpu_ms: float  # CPU time of the server's processes (and its database backends) per request
    database_cpu_ms: float  # ... of which its database backends


@dataclass(frozen=True)
class ServerCpu:
    """CPU seconds used so far by a gunicorn's workers and by the PostgreSQL backends serving
    ``database`` (only the benchmark uses that database). CPU time, unlike wall time, hardly
    depends on what else the shared machine runs."""

    master: int
    database: str | None = None
    database_url: str | None = None

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.master}/task/{self.master}/children").read_text().split()
        return [int(pid) for pid in children]

    def database_pids(self) -> list[int]:
        if not self.database_url:
            return []
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            return connection.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()

    def seconds(self) -> tuple[float, float]:
        """CPU seconds so far of the workers, and of the database backends."""
        return _cpu_seconds(self.worker_pids()), _cpu_seconds(self.database_pids())


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:  # ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def migrate(database_url: str) -> None:
    """The data may predate the newest migration (the product list's indexes, say)."""
    from flask_migrate import upgrade

    from portal import create_app

    with create_app({"SQLALCHEMY_DATABASE_URI": database_url}).app_context():
        upgrade()


@contextmanager
def profiled(pid: int, output: str | None, seconds: int):
    """py-spy sampling every gunicorn worker of ``pid`` meanwhile, into ``output`` (collapsed
    stacks, one line per stack with its sample count), when ``output`` is given."""
    if output is None:
        yield
        return
    spy = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--format",
            "raw",
            "--duration",
            str(max(1, seconds - 1)),
            "--output",
            output,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait(timeout=60)


def measure(args, workers: Workers) -> dict:
    migrate(args.database_url)
    email, shop, orders = largest_shop_owner(args.database_url)
    env = {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PORTAL_ENV": "development",
        "SESSION_COOKIE_SECURE": "0",
        **dict(setting.split("=", 1) for setting in args.env),
    }
    with (
        served("portal:create_app()", workers, env, Path(args.portal_dir)) as (portal, pid),
        served("bench.hello:app", workers, {}, ROOT) as (hello, hello_pid),
    ):
        session = sign_in(portal, email)
        older = OLDER_LINK.search(session.get(portal + PAGES["orders"]).text)
        targets = {name: (session, portal + path) for name, path in PAGES.items()}
        if older:
            targets["orders, an older page"] = (session, portal + html.unescape(older.group(1)))
        targets["hello-world"] = (requests.Session(), hello + "/")
        # wrk sends what the signed-in browser would: its cookie and its User-Agent. Flask-Login
        # ties a session to the browser's address and agent; another agent would mark the
        # session not fresh on every request, and each answer would carry a new cookie.
        browser = {
            "Cookie": "; ".join(f"{key}={value}" for key, value in session.cookies.items()),
            "User-Agent": session.headers["User-Agent"],
        }
        sequential, loaded = [], []
        for run in range(args.repeats):
            sequential.append(one_at_a_time(targets, args.requests))
            with profiled(pid, args.profile if run == 0 else None, args.seconds):
                dashboard = under_load(
                    portal + PAGES["dashboard"],
                    browser,
                    args.connections,
                    args.seconds,
                    ServerCpu(pid, database_url=args.database_url),
                )
            baseline = under_load(
                hello + "/", {}, args.connections, args.seconds, ServerCpu(hello_pid)
            )
            loaded.append((dashboard, baseline))
    return {
        "shop": shop,
        "orders": orders,
        "workers": workers,
        "sequential": sequential,
        "loaded": loaded,
    }


def spread(values: list[float], digits: int = 1, unit: str = "") -> str:
    """The median over the runs, and the lowest and highest in brackets when they differ."""
    low, high, middle = min(values), max(values), statistics.median(values)
    if round(low, digits) == round(high, digits):
        return f"{middle:,.{digits}f}{unit}"
    return f"{middle:,.{digits}f}{unit} ({low:,.{digits}f} to {high:,.{digits}f})"


def percent_spread(values: list[float]) -> str:
    return spread([value * 100 for value in values], unit="%")


def sequential_rows(runs: list[dict]) -> list[str]:
    """The one-at-a-time table: p50 and p99 per page over the runs, and p99 beside the
    hello-world page's (which ``runs`` must hold, as "hello-world")."""
    hello_p99 = [percentile(run["hello-world"], 0.99) for run in runs]
    lines = [
        "| page | p50 | p99 | p99 minus hello-world's p99 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in runs[0]:
        p50 = [statistics.median(run[name]) for run in runs]
        p99 = [percentile(run[name], 0.99) for run in runs]
        extra = (
            ""
            if name == "hello-world"
            else spread([a - b for a, b in zip(p99, hello_p99, strict=True)], unit=" ms")
        )
        lines.append(
            f"| {name} | {spread(p50, unit=' ms')} | {spread(p99, unit=' ms')} | {extra} |"
        )
    return lines


def tables(result: dict, args) -> str:
    runs = result["sequential"]
    settings = "".join(f"; {setting}" for setting in args.env)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.pages` "
        f'({result["workers"].label()}{settings}; {len(runs)} runs; shop "{result["shop"]}", '
        f"{result['orders']:,} orders).",
        "",
        f"One request at a time, {args.requests} requests per page per run, each page in turn "
        "with the hello-world page (the median over the runs, and in brackets the lowest and "
        "the highest run):",
        "",
        *sequential_rows(runs),
    ]
    lines += [
        "",
        f"The dashboard and the hello-world page under load: `wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s`, one after the other, per run:",
        "",
        "| run | dashboard req/s | p99 | CPU/request | of which PostgreSQL | hello-world req/s "
        "| p99 | CPU/request | ratio | ratio of CPU/request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ratios, cpu_ratios = [], []
    for number, (portal, hello) in enumerate(result["loaded"], 1):
        ratios.append(portal.rate / hello.rate)
        cpu_ratios.append(hello.cpu_ms / portal.cpu_ms)
        lines.append(
            f"| {number} | {portal.rate:,.0f} | {portal.p99:.1f} ms | {portal.cpu_ms:.2f} ms "
            f"| {portal.database_cpu_ms:.2f} ms "
            f"| {hello.rate:,.0f} | {hello.p99:.1f} ms | {hello.cpu_ms:.2f} ms "
            f"| {ratios[-1]:.1%} | {cpu_ratios[-1]:.1%} |"
        )
    loaded = result["loaded"]
    lines += [
        "",
        "Median over the runs (lowest and highest in brackets): dashboard "
        f"{spread([portal.rate for portal, _ in loaded], 0, ' req/s')}, p99 "
        f"{spread([portal.p99 for portal, _ in loaded], unit=' ms')}, CPU per request "
        f"{spread([portal.cpu_ms for portal, _ in loaded], 2, ' ms')}; hello-world "
        f"{spread([hello.rate for _, hello in loaded], 0, ' req/s')}, p99 "
        f"{spread([hello.p99 for _, hello in loaded], unit=' ms')}, CPU per request "
        f"{spread([hello.cpu_ms for _, hello in loaded], 2, ' ms')}. "
        f"Ratio of requests per second: {percent_spread(ratios)}; of CPU time per request "
        "(hello-world's over the dashboard's; the gunicorn workers and, for the portal, its "
        f"PostgreSQL backends): {percent_spread(cpu_ratios)}.",
    ]
    return "\n".join(lines)


def write_docs(text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace what stands between the ``begin`` and ``end`` markers of docs/performance.md."""
    docs = DOCS.read_text()
    start, stop = docs.index(begin) + len(begin), docs.index(end)
    DOCS.write_text(docs[:start] + "\n" + text + "\n" + docs[stop:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--requests", type=int, default=300, help="per page and run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10, help="of each wrk run")
    parser.add_argument("--worker-class", default=os.environ.get("GUNICORN_WORKER_CLASS", "sync"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", 1)))
    parser.add_argument(
        "--portal-dir", default=str(ROOT), help="serve the portal from another checkout (a before)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the portal's server (to compare one), e.g. DATABASE_POOL_PRE_PING=0",
    )
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument(
        "--profile", help="py-spy the portal's workers during the first dashboard load, to a file"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    workers = Workers(args.worker_class, args.workers, args.threads)
    text = tables(measure(args, workers), args)
    print(text)
    if args.write:
        write_docs(text)


if __name__ == "__main__":
    main()
