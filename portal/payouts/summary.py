"""What the admin pages and the CLI show of payout runs: lists, a run's totals, its vendors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..vendors.models import Vendor
from .models import Payout, PayoutRun, PayoutRunHold

#: How many vendors a run's page lists per section; the totals above them count every one.
DETAIL_LIMIT = 200


@dataclass(frozen=True)
class RunSummary:
    run: PayoutRun
    by_status: dict[str, tuple[int, Decimal]]  # payouts per status: count, amount
    by_reason: dict[str, tuple[int, Decimal]]  # held vendors per reason: count, amount waiting

    @property
    def payouts(self) -> int:
        return sum(count for count, _ in self.by_status.values())

    @property
    def sent(self) -> int:
        return sum(
            self.by_status.get(status, (0, 0))[0] for status in ("paid", "failed", "waiting")
        )

    @property
    def held(self) -> int:
        return sum(count for count, _ in self.by_reason.values())

    @property
    def percent(self) -> int:
        if self.run.status != "running":
            return 100
        return int(100 * self.sent / self.payouts) if self.payouts else 0


def run_summary(run: PayoutRun) -> RunSummary:
    by_status = {
        status: (count, amount)
        for status, count, amount in db.session.execute(
            sa.select(Payout.status, sa.func.count(), sa.func.sum(Payout.amount))
            .where(Payout.batch_id == run.id)
            .group_by(Payout.status)
        )
    }
    by_reason = {
        reason: (count, amount)
        for reason, count, amount in db.session.execute(
            sa.select(
                PayoutRunHold.reason, sa.func.count(), sa.func.sum(PayoutRunHold.amount_waiting)
            )
            .where(PayoutRunHold.run_id == run.id)
            .group_by(PayoutRunHold.reason)
        )
    }
    return RunSummary(run, by_status, by_reason)


def recent_runs(limit: int = 50) -> list[RunSummary]:
    runs = db.session.scalars(
        sa.select(PayoutRun).order_by(PayoutRun.started_at.desc()).limit(limit)
    ).all()
    return [run_summary(run) for run in runs]


def run_payout_rows(run_id: uuid.UUID) -> list:
    """The run's payouts, failed first: vendor, amount, records, status, transfer, reason."""
    order = sa.case({"failed": 0, "waiting": 1, "pending": 2}, value=Payout.status, else_=3)
    return db.session.execute(
        sa.select(
            Payout.id,
            Vendor.id.label("vendor_id"),
            Vendor.name.label("vendor_name"),
            Payout.amount,
            sa.func.coalesce(sa.func.cardinality(Payout.commission_ids), 0).label("records"),
            Payout.status,
            Payout.stripe_transfer_id,
            Payout.failure_reason,
            Payout.amount_reversed,
        )
        .join(Vendor, Vendor.id == Payout.vendor_id)
        .where(Payout.batch_id == run_id)
        .order_by(order, Vendor.name, Payout.id)
        .limit(DETAIL_LIMIT)
    ).all()


def run_hold_rows(run_id: uuid.UUID) -> list:
    return db.session.execute(
        sa.select(
            Vendor.id.label("vendor_id"),
            Vendor.name.label("vendor_name"),
            PayoutRunHold.reason,
            PayoutRunHold.amount_waiting,
            PayoutRunHold.record_count,
        )
        .join(Vendor, Vendor.id == PayoutRunHold.vendor_id)
        .where(PayoutRunHold.run_id == run_id)
        .order_by(PayoutRunHold.reason, Vendor.name)
        .limit(DETAIL_LIMIT)
    ).all()


def failed_payouts_query() -> sa.Select:
    """Failed payouts (the admin sidebar's count; ``idx_payouts_unfinished`` serves it)."""
    return sa.select(Payout.id).where(Payout.status == "failed")


def failed_payout_rows() -> list:
    """Every failed payout, newest failure first: what an admin may retry."""
    return db.session.execute(
        sa.select(
            Payout.id,
            Payout.batch_id,
            Vendor.name.label("vendor_name"),
            Payout.amount,
            Payout.failed_at,
            Payout.failure_reason,
        )
        .join(Vendor, Vendor.id == Payout.vendor_id)
        .where(Payout.status == "failed")
        .order_by(Payout.failed_at.desc())
        .limit(DETAIL_LIMIT)
    ).all()
