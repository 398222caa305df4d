"""Promotional tiers: an admin lifts a shop above the tier it earned, with a reason and an end date.

While a promotion runs, ``shop_tiers.tier`` and ``commission_rate`` are the promotional ones and
``earned_tier`` keeps what the shop's sales earned; when it ends, the earned tier returns. Every
grant and every end is a ``tier_changes`` row.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from ..admin import audit
from ..clock import utcnow
from ..extensions import db
from .models import SHOP_TIERS, ShopTier, TierChange
from .rules import tier_rank, tier_rank_sql, tier_rate, tier_rate_sql


class PromotionError(ValueError):
    """A grant that is refused; ``field`` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def as_expiry(value: datetime | date) -> datetime:
    """A naive UTC moment; a bare date means the promotion lasts through that day (as the admin
    page has it: until 23:59:59 UTC), so the daily job ends it early the next morning."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a promotion's end must be an aware datetime or a date")
        return value.astimezone(UTC)
    return datetime.combine(value, time.max, tzinfo=UTC).replace(microsecond=0)


def grant_promotional_tier(
    vendor_id: uuid.UUID,
    *,
    tier: str,
    reason: str,
    expires_at: datetime | date,
    granted_by,
    now: datetime | None = None,
) -> ShopTier:
    """Give a shop a better tier than it earned until ``expires_at``, and record who did it and why.

    The tier must be better than the shop's earned tier, the reason one of ``PROMOTION_REASONS``,
    and the end in the future, at most ``PROMOTION_MAX_DAYS`` ahead. A running promotion is
    replaced. ``granted_by`` is the admin user. Raises :class:`PromotionError`; flushes, never
    commits.
    """
    now = now or utcnow()
    if getattr(granted_by, "role", None) != "admin":
        raise PromotionError("Only an admin can grant a promotional tier.")
    shop_tier = db.session.scalars(
        sa.select(ShopTier)
        .where(ShopTier.shop_id == vendor_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if shop_tier is None:
        raise PromotionError("This shop has no tier to promote.")

    if tier not in SHOP_TIERS:
        raise PromotionError(f"Choose one of the tiers: {', '.join(SHOP_TIERS)}.", field="tier")
    if tier_rank(tier) <= tier_rank(shop_tier.earned_tier):
        raise PromotionError(
            f"The shop already earned {shop_tier.earned_tier}; a promotion must be a better tier.",
            field="tier",
        )
    if reason not in current_app.config["PROMOTION_REASONS"]:
        raise PromotionError("Choose one of the listed reasons.", field="reason")
    expires_at = as_expiry(expires_at)
    if expires_at <= now:
        raise PromotionError("The end date must be in the future.", field="expires_at")
    max_days = current_app.config["PROMOTION_MAX_DAYS"]
    if expires_at > now + timedelta(days=max_days):
        raise PromotionError(
            f"A promotion can last at most {max_days} days; pick an earlier end date.",
            field="expires_at",
        )

    previous_tier = shop_tier.tier
    shop_tier.tier = tier
    shop_tier.commission_rate = tier_rate(tier)
    shop_tier.is_promotional = True
    shop_tier.promotional_reason = reason
    shop_tier.promotional_expires_at = expires_at
    db.session.add(
        TierChange(
            vendor_id=vendor_id,
            from_tier=previous_tier,
            to_tier=tier,
            commission_rate=shop_tier.commission_rate,
            reason="promotion_granted",
            is_promotional=True,
            promotional_reason=reason,
            promotional_expires_at=expires_at,
            changed_by_id=granted_by.id,
            created_at=now,
        )
    )
    db.session.flush()
    audit.record(
        "promotion.granted",
        "vendor",
        vendor_id,
        actor=granted_by,
        tier=tier,
        reason=reason,
        until=f"{expires_at:%Y-%m-%d}",
    )
    return shop_tier


def expire_promotions(now: datetime | None = None) -> int:
    """End every promotion that is over, in one statement; return how many ended.

    A promotion is over when its end has come (``promotional_expires_at <= now``) or when the
    shop's earned tier has caught up with it (a promotion never holds a shop below what it earned).
    The earned tier and its rate return, and each end is a ``promotion_expired`` history row.
    Shared by the daily job and the month-end close; flushes, never commits.
    """
    now = now or utcnow()
    db.session.flush()
    shop_tiers, tier_changes = ShopTier.__table__, TierChange.__table__
    due = (
        sa.select(
            shop_tiers.c.id,
            shop_tiers.c.tier.label("promotional_tier"),
            shop_tiers.c.promotional_reason,
        )
        .where(
            shop_tiers.c.is_promotional,
            sa.or_(
                shop_tiers.c.promotional_expires_at <= now,
                tier_rank_sql(shop_tiers.c.earned_tier) >= tier_rank_sql(shop_tiers.c.tier),
            ),
        )
        .cte("due")
    )
    ended = (
        sa.update(shop_tiers)
        # is_promotional again: re-checked on the latest row if another run got there first
        .where(shop_tiers.c.id == due.c.id, shop_tiers.c.is_promotional)
        .values(
            tier=shop_tiers.c.earned_tier,
            commission_rate=tier_rate_sql(shop_tiers.c.earned_tier),
            is_promotional=False,
            promotional_reason=None,
            promotional_expires_at=None,
            updated_at=now,
        )
        .returning(
            shop_tiers.c.shop_id,
            due.c.promotional_tier,
            due.c.promotional_reason,
            shop_tiers.c.tier,
            shop_tiers.c.commission_rate,
        )
        .cte("ended")
    )
    history = sa.select(
        ended.c.shop_id,
        ended.c.promotional_tier,
        ended.c.tier,
        ended.c.commission_rate,
        sa.literal("promotion_expired"),
        sa.false(),
        ended.c.promotional_reason,
        sa.literal(now, tier_changes.c.created_at.type),
    )
    columns = ["vendor_id", "from_tier", "to_tier", "commission_rate", "reason"]
    columns += ["is_promotional", "promotional_reason", "created_at"]
    insert = sa.insert(tier_changes).from_select(columns, history).add_cte(ended)
    # SQLAlchemy keeps an INSERT's rowcount only when asked to.
    result = db.session.execute(insert.execution_options(preserve_rowcount=True))
    db.session.expire_all()  # the shop tiers changed behind the ORM's back
    return result.rowcount


def tier_history(vendor_id: uuid.UUID, limit: int = 50) -> list[TierChange]:
    """A shop's tier changes, newest first: month-end closes, grants and expiries."""
    return list(
        db.session.scalars(
            sa.select(TierChange)
            .where(TierChange.vendor_id == vendor_id)
            .order_by(TierChange.created_at.desc(), TierChange.id.desc())
            .limit(limit)
        )
    )
