"""What the platform webhook's transfer and balance events do to payouts (the endpoint calls these).

Both are idempotent and take events in any order: a ``transfer.*`` event is applied only to what
it moves forward (a payout not yet recorded as paid becomes paid with its transfer; a reversed
amount only grows), and ``balance.available`` sends what waited for the balance.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa

from ..clock import utcnow
from ..extensions import db
from . import runs
from .gateway import Transfer
from .models import Payout

log = logging.getLogger(__name__)

TRANSFER_EVENTS = ("transfer.created", "transfer.updated", "transfer.reversed")


def _payout_for(transfer: Transfer) -> Payout | None:
    payout = db.session.scalar(sa.select(Payout).where(Payout.stripe_transfer_id == transfer.id))
    if payout is not None or transfer.payout_id is None:
        return payout
    try:
        payout_id = uuid.UUID(transfer.payout_id)
    except ValueError:
        return None
    return db.session.get(Payout, payout_id)


def on_transfer_event(event_type: str, transfer: dict[str, Any]) -> Payout | None:
    """``transfer`` is the event's ``data.object``. Returns the payout it concerns, if any."""
    if event_type not in TRANSFER_EVENTS:
        return None
    seen = Transfer.from_stripe(transfer)
    payout = _payout_for(seen)
    if payout is None:
        log.info("%s for %s: no payout of ours", event_type, seen.id)
        return None
    if payout.status != "paid":
        # The worker died after Stripe made the transfer, or this event overtook its answer.
        # Under the lock, so a resend cannot race it; busy, the worker records it itself.
        try:
            with runs.run_lock():
                db.session.refresh(payout)
                if payout.status != "paid":
                    runs.record_transfer(payout, seen)
        except runs.RunLocked:
            log.info(
                "%s for payout %s: a run is sending; it records the transfer", event_type, payout.id
            )
    if seen.amount_reversed > payout.amount_reversed:
        payout.amount_reversed = seen.amount_reversed
        payout.reversed_at = utcnow()
        db.session.commit()
    return payout


def on_balance_available(balance: dict[str, Any]) -> int:
    """``balance`` is the event's ``data.object``: send the payouts that waited for it. A run in
    progress sends them itself at its end. Returns how many were paid."""
    if not any(item.get("amount", 0) > 0 for item in balance.get("available") or []):
        return 0
    try:
        with runs.run_lock():
            return runs.send_waiting_payouts()
    except runs.RunLocked:
        return 0
