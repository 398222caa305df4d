"""Every benchmark command runs and reports, on a slice small enough for CI.

The real runs are by hand (bench/README.md, figures in docs/performance.md); these prove the
commands still work against today's schema and code, so a benchmark never rots between runs.
Each runs as a subprocess, as a developer would type it, in databases of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from portal import ROOT
from portal.config import TestConfig

pytestmark = pytest.mark.bench

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REDIS_URL = TestConfig.REDIS_URL  # this worker's own test Redis database


def bench_database(name: str) -> str:
    """A database of this worker's own, on the test database's server with its login."""
    suffix = f"_{WORKER}" if WORKER else ""
    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    return url.set(database=f"portal_bench_ci_{name}{suffix}").render_as_string(hide_password=False)


def run_bench(module: str, *args: str, timeout: int = 300) -> str:
    # The benchmarks build their own apps from explicit settings, not the test configuration.
    env = {k: v for k, v in os.environ.items() if k not in {"PORTAL_ENV", "PYTEST_XDIST_WORKER"}}
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{module} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def generated() -> str:
    url = bench_database("orders")
    out = run_bench(
        "bench.generate",
        "--database-url", url,
        "--vendors", "30",
        "--customers", "100",
        "--orders", "600",
        "--product-shops", "2",
        "--products-per-shop", "50",
    )  # fmt: skip
    assert "Done: 600 orders" in out
    return url


def test_month_close(generated):
    out = run_bench("bench.close_month", "--database-url", generated)
    # The second close of the same month must find nothing left to do.
    assert "volumes rebuilt: 0" in out


def test_dashboard_queries(generated):
    out = run_bench(
        "bench.dashboard", "--database-url", generated, "--shops", "5", "--largest", "2",
        "--repeats", "1",
    )  # fmt: skip
    assert out.strip()


def test_page_profile(generated):
    out = run_bench("bench.profile_page", "--database-url", generated, "--requests", "20")
    assert "hello-world" in out and "ratio" in out


def test_vendor_pages_over_http(generated):
    out = run_bench(
        "bench.pages", "--database-url", generated, "--redis-url", REDIS_URL,
        "--requests", "5", "--repeats", "1", "--seconds", "1", "--workers", "2",
    )  # fmt: skip
    assert "hello-world" in out and "Ratio of requests per second" in out


def test_payout_run(generated):
    out = run_bench("bench.payout_run", "--database-url", generated, "--redis-url", REDIS_URL)
    assert "Payouts: 30 sent, 30 paid" in out
    assert "Transfers per second" in out


def test_checkout_payment():
    out = run_bench(
        "bench.checkout_payment", "--database-url", bench_database("payments"),
        "--runs", "5", "--warmup", "1",
    )  # fmt: skip
    assert "Checkouts paid by intent: 5" in out and "intent / baseline at the median" in out


def test_dispatch_claim():
    out = run_bench(
        "bench.dispatch", "--database-url", bench_database("dispatch"),
        "--drivers", "500", "--runs", "40", "--warmup", "5",
    )  # fmt: skip
    assert "claim / baseline at the median" in out


def test_product_import():
    out = run_bench(
        "bench.product_import", "--rows", "200", "--database-url", bench_database("products")
    )
    assert "totals:" in out


def test_position_pings():
    out = run_bench(
        "bench.pings", "--database-url", bench_database("pings"), "--redis-url", REDIS_URL,
        "--drivers", "20", "--seconds", "1", "--repeats", "1", "--connections", "4",
    )  # fmt: skip
    assert "lost: 0" in out


def test_retention_archive():
    # Destructive, so on data of its own.
    url = bench_database("archive")
    run_bench(
        "bench.generate", "--database-url", url, "--vendors", "10", "--customers", "50",
        "--orders", "300", "--months", "2", "--product-shops", "1", "--products-per-shop", "5",
    )  # fmt: skip
    out = run_bench("bench.archive", "--database-url", url, "--repeats", "3")
    assert "orders: DETACH held ACCESS EXCLUSIVE at most" in out and "ratio" in out


def test_catalog_page():
    out = run_bench(
        "bench.catalog_page", "--products", "200", "--repeats", "3",
        "--database-url", bench_database("catalog"),
    )  # fmt: skip
    assert "catalog, page 1" in out and "x baseline" in out and "Execution Time" in out


def test_catalog_match():
    out = run_bench(
        "bench.catalog_match", "--database-url", bench_database("catalog_match"),
        "--products", "60", "--masters", "120", "--vendors", "3", "--batch", "20",
    )  # fmt: skip
    assert "matcher run:" in out and "recall" in out and "peak RSS" in out


def test_catalog_dataset(tmp_path):
    from tests.catalog.matching.synthetic import write_benchmark

    dataset = write_benchmark(tmp_path / "synthetic", products=30)
    out = run_bench(
        "bench.catalog_dataset", str(dataset), "--database-url", bench_database("catalog_dataset")
    )
    assert "blocking: recall" in out and "test pairs through the database: precision" in out

def test_catalog_search():
    out = run_bench(
        "bench.catalog_search", "--database-url", bench_database("storefront"),
        "--redis-url", REDIS_URL, "--generate", "--masters", "300",
        "--requests", "3", "--repeats", "1", "--workers", "1",
    )  # fmt: skip
    assert "hello-world" in out and "Highest p99 of any search" in out
