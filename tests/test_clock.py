"""One clock: UTC database sessions, aware datetimes at the database boundary, and times shown in
the marketplace's city (MARKETPLACE_TIMEZONE, Portland's zone by default)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal import clock
from portal.extensions import db
from portal.orders import services as orders
from portal.periods import Period
from portal.vendors.models import Vendor
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor

# 02:00 UTC on 5 November 2026 is 18:00 on the 4th in Portland (PST, UTC-8).
TWO_AM_UTC = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)


def test_the_database_session_runs_in_utc(db_session):
    assert db.session.scalar(sa.text("SHOW TimeZone")) == "UTC"
    database_now = db.session.scalar(sa.select(sa.func.now()))
    assert database_now.utcoffset() == timedelta(0)
    assert abs(database_now - clock.utcnow()) < timedelta(minutes=5)
    # What a CURRENT_TIMESTAMP default writes into a timestamp-without-time-zone column.
    stored_default = db.session.scalar(sa.text("SELECT CAST(CURRENT_TIMESTAMP AS timestamp)"))
    assert abs(stored_default.replace(tzinfo=UTC) - clock.utcnow()) < timedelta(minutes=5)


def test_the_clock_is_aware_utc():
    now = clock.utcnow()
    assert now.utcoffset() == timedelta(0)
    assert clock.today() == now.date()
    assert clock.this_month() == Period(now.year, now.month)


def test_timestamps_are_stored_naive_utc_and_read_back_aware(db_session):
    vendor = vendor_for_user(make_vendor())
    vendor.created_at = datetime(2026, 11, 4, 18, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    db.session.flush()

    stored = db.session.scalar(
        sa.text("SELECT created_at FROM vendors WHERE id = :id"), {"id": vendor.id}
    )
    assert stored == datetime(2026, 11, 5, 2, 0)  # noqa: DTZ001  (naive UTC, as stored)
    db.session.expire_all()
    read = db.session.get(Vendor, vendor.id).created_at
    assert read == TWO_AM_UTC and read.tzinfo is UTC


def test_a_naive_datetime_is_refused_at_the_database_boundary(db_session):
    vendor = vendor_for_user(make_vendor())
    vendor.created_at = datetime(2026, 11, 5, 2, 0)  # noqa: DTZ001  (the point of the test)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.flush()


def test_an_order_at_two_in_the_morning_utc_reads_as_the_previous_evening(client, auth):
    owner = make_vendor(email="portland@example.com", shop_name="Portland Pens")
    vendor = vendor_for_user(owner)
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=None,
        items=[orders.LineItem(title="Fountain Pen", quantity=1, unit_price=Decimal("40.00"))],
        dropoff_address={"line1": "1 Main St", "city": "Portland", "postal_code": "97201"},
        placed_at=TWO_AM_UTC,
    )
    auth.login(owner.email)

    detail = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "04 Nov 2026, 18:00 PST" in detail
    assert "05 Nov 2026" not in detail
    listing = client.get("/vendor/orders/").get_data(as_text=True)
    assert "04 Nov 18:00" in listing


def test_the_display_zone_is_a_setting(app, monkeypatch):
    with app.app_context():
        assert clock.local_time(TWO_AM_UTC) == "04 Nov 2026, 18:00"
        monkeypatch.setitem(app.config, "MARKETPLACE_TIMEZONE", "Europe/Berlin")
        assert clock.local_time(TWO_AM_UTC, "%d %b %Y, %H:%M %Z") == "05 Nov 2026, 03:00 CET"
        assert clock.local_time(None) == ""
