"""A DATABASE_URL in a hosting provider's form works, for the app (psycopg 3) and the scripts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from portal import ROOT
from portal.config import TestConfig, sqlalchemy_database_url

SERVER = "postgres:postgres@127.0.0.1:5432"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (f"postgres://{SERVER}/shop", f"postgresql+psycopg://{SERVER}/shop"),
        (f"postgresql://{SERVER}/shop", f"postgresql+psycopg://{SERVER}/shop"),
        (
            f"postgres://{SERVER}/shop?sslmode=require",
            f"postgresql+psycopg://{SERVER}/shop?sslmode=require",
        ),
        (f"postgresql+psycopg://{SERVER}/shop", f"postgresql+psycopg://{SERVER}/shop"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_provider_urls_map_to_psycopg_3(given, expected):
    assert sqlalchemy_database_url(given) == expected


def test_the_app_connects_with_a_postgres_url():
    """A fresh process, as a deploy starts one, given the test database as ``postgres://``."""
    database = make_url(TestConfig.SQLALCHEMY_DATABASE_URI).database
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": f"postgres://{SERVER}/{database}",
    }
    script = (
        "import sqlalchemy as sa\n"
        "from portal import create_app\n"
        "from portal.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    name = db.session.scalar(sa.text('SELECT current_database()'))\n"
        "    print(db.engine.url.drivername, name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["postgresql+psycopg", database]


def shell(function: str, url: str) -> str:
    done = subprocess.run(
        ["bash", "-c", f'source scripts/lib.sh && {function} "$1"', "url-test", url],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://{SERVER}/shop?sslmode=disable",
        f"postgresql://{SERVER}/shop?sslmode=disable",
        f"postgres://{SERVER}/shop?sslmode=disable",
    ],
)
def test_the_scripts_read_every_form(url):
    assert shell("libpq_url", url) == f"postgresql://{SERVER}/shop?sslmode=disable"
    assert shell("maintenance_url", url) == f"postgresql://{SERVER}/postgres?sslmode=disable"
    assert shell("database_name", url) == "shop"


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql", "postgres"])
def test_psql_connects_through_the_scripts_url(scheme):
    database = make_url(TestConfig.SQLALCHEMY_DATABASE_URI).database
    url = shell("libpq_url", f"{scheme}://{SERVER}/{database}")
    done = subprocess.run(
        ["psql", url, "-Atqc", "SELECT current_database()"], capture_output=True, text=True
    )
    assert done.stdout.strip() == database, done.stderr
