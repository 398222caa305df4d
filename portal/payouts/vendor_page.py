"""What a vendor's payouts page shows: the account, the next payout and what holds it, the
payout history with each payout's records, Stripe's payouts to the vendor's bank, and the mail
preferences. Read here; the views only render it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from flask import current_app

from .. import clock, scheduling
from ..commissions.statements import StatementRow, payout_statement_rows
from ..extensions import db
from ..money import money_text
from ..orders.models import VendorOrderNumber
from .account_state import AccountState, account_state
from .connect_models import VendorBankPayout
from .models import Payout, PayoutHold, VendorPayoutNotices
from .payable import disputed_records, listed_records, payable_total

PAYOUT_RUN_JOB = "payout-run"
HISTORY_LIMIT = 50
BANK_PAYOUTS_LIMIT = 10

#: A payout's status in the shop's words.
PAYOUT_STATUS_WORDS = {
    "pending": ("Being sent", "info"),
    "waiting": ("Waiting", "warning"),
    "paid": ("Sent", "success"),
    "failed": ("Failed", "critical"),
}
BANK_STATUS_WORDS = {
    "pending": ("Pending", "info"),
    "in_transit": ("On its way", "info"),
    "paid": ("Arrived", "success"),
    "failed": ("Failed", "critical"),
    "canceled": ("Canceled", "neutral"),
}


def hold_words(reason: str) -> str:
    """Why a payout waits (``payout_holds.reason``), in the shop's words."""
    minimum = current_app.config.get("PAYOUT_MINIMUM")
    below = "Your earnings are below the minimum payout"
    return {
        "no_account": "You have not set up payouts yet.",
        "payouts_disabled": "Stripe has not enabled payouts on your account yet.",
        "transfers_inactive": "Stripe has not activated transfers to your account yet.",
        "below_minimum": f"{below} ({money_text(Decimal(minimum))})." if minimum else f"{below}.",
        "negative_net": "Refunds since your last payout are larger than your new sales; "
        "later sales cover them first.",
        "platform_balance": "The marketplace's Stripe balance is short; your payout goes out "
        "as soon as it is topped up.",
        "admin_hold": "The marketplace has paused your payouts; contact the marketplace team.",
    }.get(reason, reason.replace("_", " "))


@dataclass(frozen=True)
class Hold:
    reason: str
    words: str
    since: datetime
    amount_waiting: Decimal
    record_count: int


@dataclass(frozen=True)
class DisputedOrder:
    order_id: uuid.UUID
    number: int | None

    @property
    def label(self) -> str:
        return f"#{self.number}" if self.number is not None else "an order"


@dataclass(frozen=True)
class NextPayout:
    amount: Decimal
    record_count: int
    date: datetime | None  # None: no scheduled run; an admin starts them
    hold: Hold | None
    disputed: list[DisputedOrder]


class _Status:
    """A status and its words and badge tone, from the class's ``WORDS``."""

    WORDS: ClassVar[dict[str, tuple[str, str]]]
    status: str

    @property
    def status_words(self) -> str:
        return self.WORDS.get(self.status, (self.status, "neutral"))[0]

    @property
    def tone(self) -> str:
        return self.WORDS.get(self.status, (self.status, "neutral"))[1]


@dataclass(frozen=True)
class PayoutLine(_Status):
    WORDS: ClassVar = PAYOUT_STATUS_WORDS

    id: uuid.UUID
    date: datetime
    amount: Decimal
    status: str
    failure_reason: str | None
    record_count: int
    transfer_id: str | None
    kind: str = "transfer"

    @property
    def status_words(self) -> str:
        # A recovery took money back from an earlier payout (recovery.py): said as such.
        if self.kind == "recovery" and self.status == "paid":
            return "Taken back from an earlier payout"
        return super().status_words


@dataclass(frozen=True)
class BankPayoutLine(_Status):
    WORDS: ClassVar = BANK_STATUS_WORDS

    id: str
    created: datetime
    arrival_date: datetime | None
    amount: Decimal
    status: str
    failure_message: str | None


@dataclass(frozen=True)
class Notices:
    payout_sent: bool
    hold_changed: bool


@dataclass(frozen=True)
class PayoutsOverview:
    account: AccountState
    next_payout: NextPayout
    history: list[PayoutLine]
    bank_payouts: list[BankPayoutLine]
    notices: Notices


def next_run_at(now: datetime | None = None) -> datetime | None:
    """When the scheduled payout run next starts, if one is scheduled."""
    now = now or clock.utcnow()
    for job in scheduling.periodic_jobs():
        if job.name == PAYOUT_RUN_JOB:
            start = scheduling.slot_start(job, now)
            if start > now:
                return start
            _, end = scheduling.period_bounds(job, now)
            return scheduling.slot_start(job, end)
    return None


def next_payout(vendor_id: uuid.UUID) -> NextPayout:
    amount, count = payable_total(vendor_id)
    hold_row = db.session.get(PayoutHold, vendor_id)
    hold = (
        Hold(
            hold_row.reason,
            hold_words(hold_row.reason),
            hold_row.held_since,
            hold_row.amount_waiting,
            hold_row.record_count,
        )
        if hold_row is not None
        else None
    )
    disputed = disputed_records(vendor_id).subquery()
    orders = db.session.execute(
        sa.select(disputed.c.order_id, VendorOrderNumber.number)
        .distinct()
        .outerjoin(VendorOrderNumber, VendorOrderNumber.order_id == disputed.c.order_id)
        .order_by(VendorOrderNumber.number)
    ).all()
    return NextPayout(
        amount=Decimal(amount),
        record_count=int(count),
        date=next_run_at(),
        hold=hold,
        disputed=[DisputedOrder(order_id, number) for order_id, number in orders],
    )


def payout_lines_query(holder, holder_id: uuid.UUID, listed) -> sa.Select:
    """``PayoutLine`` rows of one holder's payouts, newest first: ``holder`` is the column naming
    it (``Payout.vendor_id``, ``Payout.driver_id``), ``listed`` the ids a payout pays."""
    return (
        sa.select(
            Payout.id,
            sa.func.coalesce(Payout.processed_at, Payout.failed_at, Payout.created_at),
            Payout.amount,
            Payout.status,
            Payout.failure_reason,
            sa.func.coalesce(sa.func.cardinality(listed), 0),
            Payout.stripe_transfer_id,
            Payout.kind,
        )
        .where(holder == holder_id)
        .order_by(Payout.created_at.desc())
    )


def _payout_query(vendor_id: uuid.UUID) -> sa.Select:
    return payout_lines_query(Payout.vendor_id, vendor_id, Payout.commission_ids)


def payout_history(vendor_id: uuid.UUID, limit: int | None = HISTORY_LIMIT) -> list[PayoutLine]:
    query = _payout_query(vendor_id)
    if limit:
        query = query.limit(limit)
    return [PayoutLine(*row) for row in db.session.execute(query)]


def vendor_payout(vendor_id: uuid.UUID, payout_id: uuid.UUID) -> PayoutLine | None:
    """One of the vendor's payouts (None: not the vendor's, or none such)."""
    row = db.session.execute(_payout_query(vendor_id).where(Payout.id == payout_id)).first()
    return PayoutLine(*row) if row else None


def payout_records(vendor_id: uuid.UUID, payout_id: uuid.UUID) -> list[StatementRow]:
    listed = listed_records([payout_id], vendor_id)
    return [row for _, row in payout_statement_rows(vendor_id, listed)]


def bank_payouts(vendor_id: uuid.UUID) -> list[BankPayoutLine]:
    rows = db.session.execute(
        sa.select(
            VendorBankPayout.id,
            VendorBankPayout.created,
            VendorBankPayout.arrival_date,
            VendorBankPayout.amount,
            VendorBankPayout.status,
            VendorBankPayout.failure_message,
        )
        .where(VendorBankPayout.vendor_id == vendor_id)
        .order_by(VendorBankPayout.created.desc())
        .limit(BANK_PAYOUTS_LIMIT)
    )
    return [BankPayoutLine(*row) for row in rows]


def notices(vendor_id: uuid.UUID) -> Notices:
    row = db.session.get(VendorPayoutNotices, vendor_id)
    return Notices(row.payout_sent, row.hold_changed) if row else Notices(True, True)


def set_notices(vendor_id: uuid.UUID, *, payout_sent: bool, hold_changed: bool) -> None:
    """The owner's choice of the optional payout mails (a failed payout is always mailed)."""
    row = db.session.get(VendorPayoutNotices, vendor_id)
    if row is None:
        row = VendorPayoutNotices(vendor_id=vendor_id)
        db.session.add(row)
    row.payout_sent, row.hold_changed = payout_sent, hold_changed


def overview(vendor_id: uuid.UUID) -> PayoutsOverview:
    return PayoutsOverview(
        account=account_state(vendor_id),
        next_payout=next_payout(vendor_id),
        history=payout_history(vendor_id),
        bank_payouts=bank_payouts(vendor_id),
        notices=notices(vendor_id),
    )


CSV_HEADER = [
    "payout_date",
    "payout_id",
    "payout_status",
    "payout_amount",
    "transfer",
    "order",
    "order_id",
    "kind",
    "amount",
    "commission",
    "fee",
    "net",
]


def history_csv_rows(vendor_id: uuid.UUID) -> Iterator[list]:
    """Every payout of the vendor with each of its records, a line per record (a payout without
    records gets a line of its own)."""
    payouts = payout_history(vendor_id, limit=None)
    records: dict[uuid.UUID, list[StatementRow]] = {}
    listed = listed_records([p.id for p in payouts], vendor_id)
    for payout_id, row in payout_statement_rows(vendor_id, listed):
        records.setdefault(payout_id, []).append(row)
    for payout in payouts:
        head = [
            payout.date.strftime("%Y-%m-%d %H:%M"),
            payout.id,
            payout.status,
            payout.amount,
            payout.transfer_id or "",
        ]
        lines = records.get(payout.id) or [None]
        for row in lines:
            if row is None:
                yield head + [""] * 7
            else:
                yield [
                    *head,
                    row.order_label,
                    row.order_id,
                    "refund" if row.is_refund else "sale",
                    row.amount,
                    row.commission,
                    row.fee,
                    row.net,
                ]
