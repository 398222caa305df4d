"""Promotional tiers: granting with validation and an audit row, ending them, the history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.tiers.models import TierChange
from portal.tiers.promotions import (
    PromotionError,
    expire_promotions,
    grant_promotional_tier,
    tier_history,
)
from tests.factories import make_customer
from tests.tiers.helpers import shop, tier_of

pytestmark = pytest.mark.usefixtures("db_session")

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def grant(vendor, admin, **overrides):
    arguments = {
        "tier": "gold",
        "reason": "launch",
        "expires_at": datetime(2027, 1, 31, tzinfo=UTC),
        "granted_by": admin,
        "now": NOW,
    } | overrides
    return grant_promotional_tier(vendor.id, **arguments)


def test_a_grant_sets_the_tier_and_writes_the_audit_row(admin):
    vendor = shop()

    shop_tier = grant(vendor, admin, tier="silver", reason="partnership")

    assert (shop_tier.tier, shop_tier.commission_rate, shop_tier.earned_tier) == (
        "silver",
        Decimal("0.1200"),
        "bronze",
    )
    assert shop_tier.is_promotional
    assert (shop_tier.promotional_reason, shop_tier.promotional_expires_at) == (
        "partnership",
        datetime(2027, 1, 31, tzinfo=UTC),
    )
    [audit] = db.session.scalars(sa.select(TierChange).where(TierChange.vendor_id == vendor.id))
    assert (audit.reason, audit.from_tier, audit.to_tier, audit.commission_rate) == (
        "promotion_granted",
        "bronze",
        "silver",
        Decimal("0.1200"),
    )
    assert audit.changed_by_id == admin.id
    assert audit.is_promotional
    assert (audit.promotional_reason, audit.promotional_expires_at) == (
        "partnership",
        datetime(2027, 1, 31, tzinfo=UTC),
    )
    assert audit.created_at == NOW


def test_an_end_date_means_the_promotion_lasts_through_that_day(admin):
    shop_tier = grant(shop(), admin, expires_at=date(2026, 12, 15))
    assert shop_tier.promotional_expires_at == datetime(2026, 12, 15, 23, 59, 59, tzinfo=UTC)


def test_a_new_grant_replaces_a_running_promotion(admin):
    vendor = shop()
    grant(vendor, admin, tier="gold")
    shop_tier = grant(
        vendor,
        admin,
        tier="silver",
        reason="retention",
        expires_at=date(2027, 2, 1),
        now=NOW + timedelta(hours=1),
    )

    assert (shop_tier.tier, shop_tier.promotional_reason) == ("silver", "retention")
    assert [(c.from_tier, c.to_tier) for c in tier_history(vendor.id)] == [
        ("gold", "silver"),
        ("bronze", "gold"),
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"tier": "platinum"}, "tier", "Choose one of the tiers"),
        ({"tier": "bronze"}, "tier", "already earned bronze"),
        ({"reason": "because"}, "reason", "listed reasons"),
        ({"expires_at": NOW}, "expires_at", "in the future"),
        ({"expires_at": NOW - timedelta(days=1)}, "expires_at", "in the future"),
        ({"expires_at": NOW + timedelta(days=367)}, "expires_at", "at most 366 days"),
    ],
)
def test_a_grant_is_refused_with_a_clear_message(admin, overrides, field, message):
    vendor = shop()
    with pytest.raises(PromotionError, match=message) as refused:
        grant(vendor, admin, **overrides)
    assert refused.value.field == field
    assert tier_of(vendor).tier == "bronze"
    assert tier_history(vendor.id) == []


def test_a_promotion_must_beat_the_earned_tier(admin):
    vendor = shop()
    shop_tier = tier_of(vendor)
    shop_tier.tier = shop_tier.earned_tier = "silver"
    db.session.flush()

    with pytest.raises(PromotionError, match="already earned silver"):
        grant(vendor, admin, tier="silver")
    assert grant(vendor, admin, tier="gold").tier == "gold"


def test_only_an_admin_grants(db_session):
    customer = make_customer()
    with pytest.raises(PromotionError, match="Only an admin"):
        grant(shop(), customer)


def test_the_longest_promotion_is_configurable(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "PROMOTION_MAX_DAYS", 30)
    with pytest.raises(PromotionError, match="at most 30 days"):
        grant(shop(), admin, expires_at=NOW + timedelta(days=31))


def test_expire_promotions_ends_only_those_whose_end_has_come(admin):
    ending, running = shop(name="Ending"), shop(name="Running")
    grant(ending, admin, tier="gold", expires_at=date(2026, 12, 15))
    grant(running, admin, tier="silver", expires_at=date(2026, 12, 16))  # through the 16th

    assert expire_promotions(datetime(2026, 12, 15, 23, 59, tzinfo=UTC)) == 0
    assert expire_promotions(datetime(2026, 12, 16, 0, 5, tzinfo=UTC)) == 1
    assert expire_promotions(datetime(2026, 12, 16, 0, 10, tzinfo=UTC)) == 0  # already ended

    ended = tier_of(ending)
    assert (ended.tier, ended.commission_rate, ended.is_promotional) == (
        "bronze",
        Decimal("0.1500"),
        False,
    )
    latest = tier_history(ending.id)[0]
    assert (latest.reason, latest.from_tier, latest.to_tier) == (
        "promotion_expired",
        "gold",
        "bronze",
    )
    assert latest.changed_by_id is None
    assert latest.created_at == datetime(2026, 12, 16, 0, 5, tzinfo=UTC)
    assert tier_of(running).is_promotional


def test_tier_history_is_newest_first_and_limited(admin):
    vendor = shop()
    for day in range(1, 4):
        grant(vendor, admin, tier="gold" if day % 2 else "silver", now=NOW + timedelta(days=day))

    history = tier_history(vendor.id, limit=2)

    assert [change.created_at.day for change in history] == [28, 27]
