"""``flask db upgrade`` alone, on an empty database, leaves the current periods and those ahead."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from portal import ROOT, create_app
from portal.clock import utcnow
from portal.config import TestConfig
from portal.extensions import db


def admin_dsn(url) -> str:
    return url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="module")
def upgraded_app():
    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    url = url.set(database=f"{url.database}_upgrade")
    with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "PARTITION_MONTHS_AHEAD": 2,
            "PARTITION_YEARS_AHEAD": 1,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="head")
    yield app
    with app.app_context():
        db.engine.dispose()
    with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def month_names(table: str, first, count: int) -> set[str]:
    names, year, month = set(), first.year, first.month
    for _ in range(count):
        names.add(f"{table}_{year:04d}_{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return names


def test_upgrade_alone_creates_the_current_period_and_the_ones_ahead(upgraded_app):
    today = utcnow().date()
    with upgraded_app.app_context():
        partitions = set(
            db.session.scalars(
                sa.text(
                    "SELECT c.relname FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid "
                    "WHERE pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'"
                )
            )
        )

    expected = (
        month_names("orders", today, 3)
        | month_names("commission_records", today, 3)
        | {f"points_transactions_{today.year}", f"points_transactions_{today.year + 1}"}
    )
    assert partitions == expected
