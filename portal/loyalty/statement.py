"""What the points pages read beyond the points service's read functions (``points.py``): a
page of a customer's ledger for "load more", the holds on their points, and the admin's search for
a customer. Reads only; every change goes through the points service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..customers.models import Customer
from ..extensions import db
from ..orders.models import Order
from ..pagination import Cursor, Paged, clamp_page
from . import points, rules
from .models import POINTS_TIERS, PointsBalance, PointsHold, PointsTransaction

#: Ledger rows a page (and each "load more") shows.
HISTORY_PER_PAGE = 20


@dataclass(frozen=True)
class HistoryPage:
    rows: list[PointsTransaction]
    more: Cursor | None  # the last row's place, when older rows follow

    @property
    def more_token(self) -> str | None:
        return self.more.token() if self.more else None


def history_page(
    customer_id: uuid.UUID, before: Cursor | None = None, per_page: int = HISTORY_PER_PAGE
) -> HistoryPage:
    """The customer's ledger newest first, ``per_page`` rows older than ``before`` (the points
    service's ``history``, keyset on ``(created_at, id)``), with their orders and shops."""
    after = (before.created_at, before.id) if before else None
    rows = points.history(customer_id, after, limit=per_page + 1)
    more = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        more = Cursor(*points.history_cursor(rows[-1]))
    _load_orders(rows)
    return HistoryPage(rows, more)


def _load_orders(rows) -> None:
    """The rows' orders and shops in one statement each, so a page does not ask row by row."""
    keys = {(row.order_id, row.order_created_at) for row in rows if row.order_id}
    if not keys:
        return
    found = {
        (order.id, order.created_at): order
        for order in db.session.scalars(
            sa.select(Order)
            .where(sa.tuple_(Order.id, Order.created_at).in_(list(keys)))
            .options(selectinload(Order.vendor))
        )
    }
    for row in rows:
        if row.order_id:
            set_committed_value(row, "order", found.get((row.order_id, row.order_created_at)))


def holds(customer_id: uuid.UUID) -> list[PointsHold]:
    """Points set aside and not spent yet, the soonest to lapse first."""
    return list(
        db.session.scalars(
            sa.select(PointsHold)
            .where(PointsHold.customer_id == customer_id)
            .options(selectinload(PointsHold.order).selectinload(Order.vendor))
            .order_by(PointsHold.expires_at)
        )
    )


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    email: str
    balance: int
    tier: str


@dataclass(frozen=True)
class CustomerPage(Paged):
    rows: list[CustomerRow]
    page: int
    per_page: int
    total_rows: int


def search_customers(text: str = "", page: int = 1, per_page: int = 25) -> CustomerPage:
    """Customers whose email or name holds ``text`` (all of them for none), with their balance;
    the largest balances first, as the ones an admin most often looks for."""
    query = (
        sa.select(Customer, User.email, PointsBalance.current_balance, PointsBalance.tier)
        .join(User, User.id == Customer.user_id)
        .outerjoin(PointsBalance, PointsBalance.customer_id == Customer.id)
    )
    text = text.strip()[:200]
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(sa.or_(User.email.ilike(pattern), Customer.full_name.ilike(pattern)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    rows = db.session.execute(
        query.order_by(
            PointsBalance.current_balance.desc().nulls_last(), Customer.full_name, Customer.id
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return CustomerPage(
        [
            CustomerRow(c, email, balance or 0, tier or POINTS_TIERS[0])
            for c, email, balance, tier in rows
        ],
        page,
        per_page,
        total,
    )


@dataclass(frozen=True)
class TierBar:
    """The progress bar to the next tier, from a ``points.Summary``."""

    tier: str
    next_tier: str | None  # None at the top tier
    multiplier: Decimal
    earned_in_tier: int  # lifetime points past the tier's own threshold
    span: int  # lifetime points from this tier's threshold to the next's (0 at the top)
    to_go: int  # lifetime points still to earn for the next tier

    @property
    def percent(self) -> int:
        if not self.span:
            return 100
        return min(100, self.earned_in_tier * 100 // self.span)


def tier_bar(summary) -> TierBar:
    threshold = summary.lifetime_earned - summary.tier_progress
    following = summary.next_tier_threshold
    return TierBar(
        tier=summary.tier,
        next_tier=summary.next_tier,
        multiplier=rules.tier_multiplier(summary.tier),
        earned_in_tier=summary.tier_progress,
        span=following - threshold if following is not None else 0,
        to_go=max(0, following - summary.lifetime_earned) if following is not None else 0,
    )


@dataclass(frozen=True)
class BalanceCard:
    balance: int
    value: Decimal
    tier: str


def balance_card(customer_id: uuid.UUID) -> BalanceCard:
    """The customer dashboard's line on points: one read of the balance row."""
    row = points.balance_row(customer_id)
    balance = row.current_balance if row else 0
    return BalanceCard(balance, rules.points_value(balance), row.tier if row else POINTS_TIERS[0])
