"""Recovering a vendor's negative net by reversing an earlier transfer (PRODUCT.md "Payouts").

A refund after a payout can leave a vendor's settled records netting below zero. By default the
run carries it (hold ``negative_net``) until later sales cover it. With
``PAYOUT_NEGATIVE_NET = "reverse"`` a run that finds an earlier paid transfer with that much left
to reverse makes a ``recovery`` payout instead: a negative amount whose records it claims like any
payout, sent as one Transfer Reversal of that transfer. It is exactly-once like a transfer: the
idempotency key is saved before the call, and a key Stripe may have forgotten is looked up first
(the reversal's ``metadata.payout_id``). The reversed transfer's ``amount_reversed`` is read back
from Stripe, never added to, so the ``transfer.reversed`` webhook and this agree.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..admin.audit import record
from ..clock import utcnow
from ..extensions import db
from ..failpoints import failpoint
from . import runs
from .gateway import StripeGatewayError, TransferReversal, gateway
from .models import Payout

MODES = ("carry", "reverse")


def enabled() -> bool:
    mode = current_app.config["PAYOUT_NEGATIVE_NET"]
    if mode not in MODES:
        raise ValueError(f"PAYOUT_NEGATIVE_NET must be one of {MODES}, not {mode!r}.")
    return mode == "reverse"


def reversible_source(payout: Payout) -> Payout | None:
    """The vendor's newest paid transfer with at least the recovery's amount left to reverse."""
    return db.session.scalar(
        sa.select(Payout)
        .where(
            Payout.vendor_id == payout.vendor_id,
            Payout.kind == "transfer",
            Payout.status == "paid",
            Payout.stripe_transfer_id.is_not(None),
            Payout.amount - Payout.amount_reversed >= -payout.amount,
        )
        .order_by(Payout.processed_at.desc(), Payout.id)
        .limit(1)
        .with_for_update()
    )


def recover(payout: Payout, *, mark_records: bool = False) -> None:
    """Send one recovery (the caller holds the payout lock): ends paid or failed."""
    source = db.session.get(Payout, payout.recovered_from_id) if payout.recovered_from_id else None
    if source is None:
        source = reversible_source(payout)
        if source is None:
            runs._fail(payout, "No earlier transfer has enough left to reverse; run again later.")
            return
        payout.recovered_from_id = source.id
    gw = gateway()
    memory = timedelta(hours=current_app.config["PAYOUT_KEY_MEMORY_HOURS"])
    now = utcnow()
    if payout.key_first_sent_at is not None and now - payout.key_first_sent_at >= memory:
        found = gw.find_transfer_reversal(source.stripe_transfer_id, payout_id=str(payout.id))
        if found is not None:
            _recovered(payout, source, found, mark_records=mark_records)
            return
        payout.key_first_sent_at = None
        payout.idempotency_key = f"payout-{payout.id}-{payout.attempts + 1}"
    if payout.key_first_sent_at is None:
        payout.key_first_sent_at = now
    payout.attempts += 1
    db.session.commit()
    failpoint("after_key_saved")
    try:
        reversal = gw.create_transfer_reversal(
            source.stripe_transfer_id,
            amount=-payout.amount,
            idempotency_key=payout.idempotency_key,
            metadata={"payout_id": str(payout.id)},
        )
    except StripeGatewayError as error:
        runs._fail(payout, f"{error.message} ({error.code or 'no code'})")
        return
    failpoint("after_transfer_call")
    _recovered(payout, source, reversal, mark_records=mark_records)


def _recovered(
    payout: Payout, source: Payout, reversal: TransferReversal, *, mark_records: bool
) -> None:
    if reversal.amount != -payout.amount:
        runs._fail(payout, f"Stripe's reversal {reversal.id} does not match this recovery.")
        return
    updated = runs.mark_paid_once(payout, stripe_reversal_id=reversal.id)
    reversed_total = gateway().retrieve_transfer(source.stripe_transfer_id).amount_reversed
    if reversed_total > source.amount_reversed:
        source.amount_reversed = reversed_total
        source.reversed_at = utcnow()
    runs.after_paid(payout.id, driver=False, mark_records=mark_records)
    if updated:
        record(
            "payout.recovered",
            "payout",
            payout.id,
            actor=None,
            amount=str(-payout.amount),
            reversal=reversal.id,
            from_payout=str(source.id),
        )
    db.session.commit()
    db.session.expire(payout)
