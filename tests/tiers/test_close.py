"""The month-end close: volumes from orders, tiers from thresholds, promotions, reruns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.orders import services as orders
from portal.tiers import close as month_close
from portal.tiers.close import (
    MonthCloseBusyError,
    MonthCloseError,
    MonthNotFinishedError,
    request_month_close,
    run_month_close,
)
from portal.tiers.models import MonthClose, TierChange, VendorMonthlyVolume
from tests.tiers.helpers import CLOSE_TIME, add_order, set_volume, shop, tier_of, volume_of

pytestmark = pytest.mark.usefixtures("db_session")


def close_october(now: datetime = CLOSE_TIME) -> MonthClose:
    return run_month_close(2026, 10, now=now)


def changes(vendor) -> list[TierChange]:
    return list(
        db.session.scalars(
            sa.select(TierChange)
            .where(TierChange.vendor_id == vendor.id)
            .order_by(TierChange.created_at)
        )
    )


def volumes_snapshot() -> list[tuple]:
    return db.session.execute(
        sa.select(
            VendorMonthlyVolume.vendor_id,
            VendorMonthlyVolume.year,
            VendorMonthlyVolume.month,
            VendorMonthlyVolume.total_sales,
            VendorMonthlyVolume.total_orders,
            VendorMonthlyVolume.average_order_value,
            VendorMonthlyVolume.fee_tier,
        ).order_by(VendorMonthlyVolume.vendor_id, VendorMonthlyVolume.month)
    ).all()


# --- volumes -------------------------------------------------------------------------------------


def test_close_rebuilds_the_months_volumes_exactly_from_paid_orders():
    corner = shop()
    add_order(corner, "100.00")
    add_order(corner, "50.00", refunded="20.00")  # partial refund: 30.00 counts, the order too
    add_order(corner, "30.00", refunded="30.00")  # full refund: nothing counts
    add_order(corner, "999.00", paid=False)  # never paid
    add_order(corner, "1.00", created_at=datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC))  # September
    add_order(corner, "2.00", created_at=datetime(2026, 11, 1, 0, 0, tzinfo=UTC))  # November
    add_order(
        corner, "4.00", created_at=datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    )  # first instant of October
    set_volume(corner, 2026, 10, "1.00")  # stale: the close corrects it

    close = close_october()

    volume = volume_of(corner)
    assert volume.total_sales == Decimal("134.00")
    assert volume.total_orders == 3
    assert volume.average_order_value == Decimal("44.67")
    assert volume.fee_tier == "standard"
    assert close.status == "done"
    assert close.summary["volumes_rebuilt"] == 1
    assert close.summary["vendors_with_volume"] == 1


def test_average_order_value_rounds_half_up():
    bistro = shop("restaurant", "Bistro")
    add_order(bistro, "10.00")
    add_order(bistro, "10.01")  # 20.01 / 2 = 10.005

    close_october()

    assert volume_of(bistro).average_order_value == Decimal("10.01")


@pytest.mark.parametrize(
    ("vendor_type", "sales", "fee_tier"),
    [
        ("shop", "9999.99", "standard"),
        ("shop", "10000.00", "growth"),  # the bound is exclusive
        ("restaurant", "49999.99", "growth"),
        ("grocery", "50000.00", "scale"),
        ("florist", "60000.00", "scale"),  # an unknown type pays the shop schedule
    ],
)
def test_fee_tier_follows_the_vendor_types_schedule(vendor_type, sales, fee_tier):
    vendor = shop(vendor_type)
    add_order(vendor, sales)

    close_october()

    assert volume_of(vendor).fee_tier == fee_tier


def test_a_row_without_sales_is_reset_and_a_vendor_without_orders_gets_no_row():
    refunded_away, never_sold = shop(name="Refunded Away"), shop(name="Never Sold")
    set_volume(refunded_away, 2026, 10, "500.00", total_orders=5)
    add_order(refunded_away, "80.00", refunded="80.00")

    close_october()

    volume = volume_of(refunded_away)
    assert (volume.total_sales, volume.total_orders, volume.average_order_value) == (0, 0, None)
    assert volume.fee_tier == "standard"
    assert volume_of(never_sold) is None


def test_other_months_volumes_are_left_alone():
    vendor = shop()
    set_volume(vendor, 2026, 9, "123.45")
    add_order(vendor, "10.00")

    close_october()

    assert volume_of(vendor, 2026, 9).total_sales == Decimal("123.45")


# --- tiers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sales", "tier", "rate"),
    [
        ("4999.99", "bronze", "0.1500"),
        ("5000.00", "silver", "0.1200"),
        ("19999.99", "silver", "0.1200"),
        ("20000.00", "gold", "0.1000"),
    ],
)
def test_the_earned_tier_follows_the_thresholds(sales, tier, rate):
    vendor = shop()
    add_order(vendor, sales)

    close_october()

    shop_tier = tier_of(vendor)
    assert (shop_tier.tier, shop_tier.earned_tier) == (tier, tier)
    assert shop_tier.commission_rate == Decimal(rate)


def test_upgrades_and_downgrades_are_history_rows_of_the_closed_month():
    rising, falling, steady = shop(name="Rising"), shop(name="Falling"), shop(name="Steady")
    add_order(rising, "25000.00")
    add_order(steady, "100.00")
    falling_tier = tier_of(falling)
    falling_tier.tier = falling_tier.earned_tier = "gold"
    falling_tier.commission_rate = Decimal("0.1000")
    db.session.flush()

    close = close_october()

    [up] = changes(rising)
    assert (up.from_tier, up.to_tier, up.commission_rate) == ("bronze", "gold", Decimal("0.1000"))
    assert (up.reason, up.period_year, up.period_month) == ("month_close", 2026, 10)
    assert up.changed_by_id is None
    assert up.created_at == CLOSE_TIME
    [down] = changes(falling)
    assert (down.from_tier, down.to_tier, down.commission_rate) == (
        "gold",
        "bronze",
        Decimal("0.1500"),
    )
    assert changes(steady) == []
    assert (close.summary["upgrades"], close.summary["downgrades"]) == (1, 1)
    assert close.summary["tiers_applied"] is True


def test_an_active_promotion_keeps_its_tier_and_an_expired_one_returns_the_earned_tier():
    promoted, lapsed = shop(name="Promoted"), shop(name="Lapsed")
    add_order(promoted, "6000.00")  # earns silver
    add_order(lapsed, "6000.00")
    for vendor, expires_at in (
        (promoted, datetime(2026, 12, 15, tzinfo=UTC)),
        (lapsed, datetime(2026, 10, 31, tzinfo=UTC)),
    ):
        shop_tier = tier_of(vendor)
        shop_tier.tier, shop_tier.commission_rate = "gold", Decimal("0.1000")
        shop_tier.is_promotional, shop_tier.promotional_reason = True, "launch"
        shop_tier.promotional_expires_at = expires_at
    db.session.flush()

    close = close_october()

    kept = tier_of(promoted)
    assert (kept.tier, kept.earned_tier, kept.commission_rate) == (
        "gold",
        "silver",
        Decimal("0.1000"),
    )
    assert kept.is_promotional
    assert kept.promotional_expires_at == datetime(2026, 12, 15, tzinfo=UTC)
    assert changes(promoted) == []

    ended = tier_of(lapsed)
    assert (ended.tier, ended.earned_tier, ended.commission_rate) == (
        "silver",
        "silver",
        Decimal("0.1200"),
    )
    assert not ended.is_promotional
    assert ended.promotional_reason is None
    assert ended.promotional_expires_at is None
    [history] = changes(lapsed)
    assert (history.reason, history.from_tier, history.to_tier) == (
        "promotion_expired",
        "gold",
        "silver",
    )
    assert history.promotional_reason == "launch"
    assert close.summary["promotions_expired"] == 1


def test_a_promotion_the_shop_has_outgrown_ends_at_the_close():
    outgrown = shop()
    add_order(outgrown, "21000.00")  # earns gold, above its silver promotion
    shop_tier = tier_of(outgrown)
    shop_tier.tier, shop_tier.commission_rate = "silver", Decimal("0.1200")
    shop_tier.is_promotional, shop_tier.promotional_reason = True, "seasonal"
    shop_tier.promotional_expires_at = datetime(2027, 1, 31, tzinfo=UTC)
    db.session.flush()

    close_october()

    shop_tier = tier_of(outgrown)
    assert (shop_tier.tier, shop_tier.commission_rate, shop_tier.is_promotional) == (
        "gold",
        Decimal("0.1000"),
        False,
    )
    assert [change.reason for change in changes(outgrown)] == ["promotion_expired"]


def test_monthly_sales_becomes_the_running_months_sales():
    selling, quiet = shop(name="Selling"), shop(name="Quiet")
    set_volume(selling, 2026, 11, "321.00")
    quiet_tier = tier_of(quiet)
    quiet_tier.monthly_sales = Decimal("999.00")  # October's, left over
    db.session.flush()

    close_october()

    assert tier_of(selling).monthly_sales == Decimal("321.00")
    assert tier_of(quiet).monthly_sales == Decimal("0.00")


def test_re_closing_an_older_month_corrects_its_volumes_but_not_the_tiers():
    vendor = shop()
    add_order(vendor, "30000.00", created_at=datetime(2026, 9, 10, tzinfo=UTC))

    close = run_month_close(2026, 9, now=CLOSE_TIME)

    assert volume_of(vendor, 2026, 9).total_sales == Decimal("30000.00")
    assert tier_of(vendor).tier == "bronze"
    assert close.summary["tiers_applied"] is False


# --- reruns, refusals, failures ------------------------------------------------------------------


def test_a_second_run_changes_nothing_but_the_bookkeeping():
    gold, bronze, promoted = shop(name="Gold"), shop(name="Bronze"), shop(name="Promoted")
    add_order(gold, "20000.00")
    add_order(bronze, "10.00", refunded="4.00")
    shop_tier = tier_of(promoted)
    shop_tier.tier, shop_tier.commission_rate, shop_tier.is_promotional = (
        "gold",
        Decimal("0.1000"),
        True,
    )
    shop_tier.promotional_reason, shop_tier.promotional_expires_at = (
        "launch",
        datetime(2026, 10, 20, tzinfo=UTC),
    )
    db.session.flush()
    first = close_october()
    volumes, history = (
        volumes_snapshot(),
        db.session.scalar(sa.select(sa.func.count(TierChange.id))),
    )
    tiers = [
        (t.tier, t.earned_tier, t.commission_rate, t.updated_at)
        for t in map(tier_of, (gold, bronze, promoted))
    ]

    second = close_october(CLOSE_TIME.replace(hour=4))

    assert volumes_snapshot() == volumes
    assert db.session.scalar(sa.select(sa.func.count(TierChange.id))) == history == 2
    assert [
        (t.tier, t.earned_tier, t.commission_rate, t.updated_at)
        for t in map(tier_of, (gold, bronze, promoted))
    ] == tiers
    assert second.id == first.id
    assert second.runs == 2
    assert second.summary | {"duration_ms": 0} == {
        "vendors_with_volume": 2,
        "volumes_rebuilt": 0,
        "tiers_applied": True,
        "upgrades": 0,
        "downgrades": 0,
        "promotions_expired": 0,
        "duration_ms": 0,
    }


@pytest.mark.parametrize(("year", "month"), [(2026, 11), (2026, 12), (2027, 1)])
def test_the_running_or_a_future_month_is_refused(year, month):
    with pytest.raises(MonthNotFinishedError, match="has not finished yet"):
        run_month_close(year, month, now=datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert db.session.scalar(sa.select(sa.func.count(MonthClose.id))) == 0


def test_a_month_that_does_not_exist_is_refused():
    with pytest.raises(MonthCloseError, match="not a month"):
        run_month_close(2026, 13, now=CLOSE_TIME)


def test_a_month_can_be_closed_from_its_last_instant_on():
    assert run_month_close(2026, 10, now=datetime(2026, 11, 1, tzinfo=UTC)).status == "done"


def test_the_close_records_its_run():
    close = close_october()

    assert (close.status, close.progress, close.step, close.runs) == ("done", 100, "Done", 1)
    assert close.started_at <= close.finished_at
    assert close.error is None
    assert close.summary["duration_ms"] >= 0


def test_a_failing_close_keeps_none_of_its_changes_and_records_the_error(monkeypatch):
    vendor = shop()
    add_order(vendor, "25000.00")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(month_close, "update_monthly_sales", broken)
    with pytest.raises(RuntimeError):
        close_october()

    assert volume_of(vendor) is None
    assert tier_of(vendor).tier == "bronze"
    assert changes(vendor) == []
    close = db.session.scalars(sa.select(MonthClose)).one()
    assert (close.status, close.runs) == ("failed", 1)
    assert "unexpected error" in close.error and "disk on fire" not in close.error


def test_request_month_close_queues_and_refuses_while_queued_or_running(admin):
    close = request_month_close(2026, 10, requested_by=admin, now=CLOSE_TIME)
    assert (close.status, close.job_id, close.requested_by_id) == (
        "queued",
        "month-close-2026-10",
        admin.id,
    )

    with pytest.raises(MonthCloseBusyError, match="already queued"):
        request_month_close(2026, 10, now=CLOSE_TIME)
    close.status = "running"
    db.session.flush()
    close.started_at = CLOSE_TIME
    with pytest.raises(MonthCloseBusyError, match="already running"):
        request_month_close(2026, 10, now=CLOSE_TIME)
    # A close whose worker died long ago may be queued again.
    stale = request_month_close(2026, 10, now=CLOSE_TIME + timedelta(hours=2))
    assert stale.status == "queued"
    close.status = "running"
    db.session.flush()

    done = run_month_close(2026, 10, now=CLOSE_TIME)
    assert done.status == "done"
    again = request_month_close(2026, 10, now=CLOSE_TIME)
    assert (again.id, again.status, again.progress, again.summary) == (close.id, "queued", 0, None)


def test_request_month_close_refuses_an_unfinished_month():
    with pytest.raises(MonthNotFinishedError):
        request_month_close(2026, 11, now=CLOSE_TIME)


def test_the_close_agrees_with_the_volumes_order_intake_keeps():
    """Intake keeps volumes incrementally, the close rebuilds them: the same orders, no change."""
    shops = [shop("shop", "Intake Shop"), shop("restaurant", "Intake Bistro")]
    placed = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    for vendor in shops:
        paid = []
        for price in ("12.50", "7.25", "30.00", "99.99"):
            order = orders.place_order(
                vendor_id=vendor.id,
                items=[orders.LineItem(title="Thing", quantity=2, unit_price=Decimal(price))],
                delivery_fee=Decimal("4.99"),
                placed_at=placed,
            )
            paid.append(orders.mark_paid(order, at=placed.replace(hour=10)))
        orders.place_order(  # never paid
            vendor_id=vendor.id,
            items=[orders.LineItem(title="Thing", quantity=1, unit_price=Decimal("5.00"))],
            placed_at=placed,
        )
        orders.refund_order(paid[0], Decimal("10.00"), "re-partial", at=placed.replace(hour=11))
        orders.refund_order(paid[1], paid[1].total, "re-full", at=placed.replace(hour=11))
    kept_by_intake = volumes_snapshot()
    assert len(kept_by_intake) == 2

    close = close_october()

    assert close.summary["volumes_rebuilt"] == 0
    assert volumes_snapshot() == kept_by_intake
