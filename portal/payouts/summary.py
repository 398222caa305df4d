"""What the admin pages and the CLI show of payout runs: lists, a run's totals, its vendors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ..deliveries.models import Driver
from ..extensions import db
from ..vendors.models import Vendor
from .driver_models import PayoutRunDriverHold
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
    by_reason: dict[str, tuple[int, Decimal]] = {}
    for model in (PayoutRunHold, PayoutRunDriverHold):  # vendors and drivers held
        for reason, count, amount in db.session.execute(
            sa.select(model.reason, sa.func.count(), sa.func.sum(model.amount_waiting))
            .where(model.run_id == run.id)
            .group_by(model.reason)
        ):
            before = by_reason.get(reason, (0, Decimal("0")))
            by_reason[reason] = (before[0] + count, before[1] + amount)
    return RunSummary(run, by_status, by_reason)


def recent_runs(limit: int = 50) -> list[RunSummary]:
    runs = db.session.scalars(
        sa.select(PayoutRun).order_by(PayoutRun.started_at.desc()).limit(limit)
    ).all()
    return [run_summary(run) for run in runs]


def _payee() -> tuple:
    """Who a payout pays, for the pages: the shop's name or the driver's, and which it is."""
    return (
        sa.func.coalesce(Vendor.name, Driver.full_name).label("vendor_name"),
        sa.case((Payout.driver_id.is_not(None), "Driver"), else_="Shop").label("payee_kind"),
    )


def _with_payee(query: sa.Select) -> sa.Select:
    return query.outerjoin(Vendor, Vendor.id == Payout.vendor_id).outerjoin(
        Driver, Driver.id == Payout.driver_id
    )


def run_payout_rows(run_id: uuid.UUID, *, drivers: bool = False) -> list:
    """The run's payouts to vendors (or to drivers), failed first: who, amount, records (a
    driver's: deliveries), status, transfer, reason. ``vendor_name`` is the payee's name."""
    order = sa.case({"failed": 0, "waiting": 1, "pending": 2}, value=Payout.status, else_=3)
    listed = Payout.earning_ids if drivers else Payout.commission_ids
    holder = Payout.driver_id if drivers else Payout.vendor_id
    query = sa.select(
        Payout.id,
        holder.label("holder_id"),
        *_payee(),
        Payout.amount,
        sa.func.coalesce(sa.func.cardinality(listed), 0).label("records"),
        Payout.status,
        Payout.stripe_transfer_id,
        Payout.failure_reason,
        Payout.amount_reversed,
    )
    return db.session.execute(
        _with_payee(query)
        .where(Payout.batch_id == run_id, holder.is_not(None))
        .order_by(order, sa.literal_column("vendor_name"), Payout.id)
        .limit(DETAIL_LIMIT)
    ).all()


def run_hold_rows(run_id: uuid.UUID, *, drivers: bool = False) -> list:
    """The vendors (or drivers) the run held, with the reason and what waits."""
    if drivers:
        model, who, name = PayoutRunDriverHold, Driver, Driver.full_name
        joined = Driver.id == PayoutRunDriverHold.driver_id
    else:
        model, who, name = PayoutRunHold, Vendor, Vendor.name
        joined = Vendor.id == PayoutRunHold.vendor_id
    return db.session.execute(
        sa.select(
            who.id.label("holder_id"),
            name.label("vendor_name"),
            model.reason,
            model.amount_waiting,
            model.record_count,
        )
        .join(who, joined)
        .where(model.run_id == run_id)
        .order_by(model.reason, name)
        .limit(DETAIL_LIMIT)
    ).all()


def failed_payouts_query() -> sa.Select:
    """Failed payouts (the admin sidebar's count; ``idx_payouts_unfinished`` serves it)."""
    return sa.select(Payout.id).where(Payout.status == "failed")


def failed_payout_rows() -> list:
    """Every failed payout, newest failure first: what an admin may retry."""
    query = sa.select(
        Payout.id,
        Payout.batch_id,
        *_payee(),
        Payout.amount,
        Payout.failed_at,
        Payout.failure_reason,
    )
    return db.session.execute(
        _with_payee(query)
        .where(Payout.status == "failed")
        .order_by(Payout.failed_at.desc())
        .limit(DETAIL_LIMIT)
    ).all()
