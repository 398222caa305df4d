"""An admin's pause of a shop's payouts (a review, a suspected fraud), and lifting it.

While a shop is paused, runs hold it with the reason ``admin_hold`` and its records stay settled
and unpaid; lifting the pause lets the next run pay them. Both are money actions: the views sit
behind the second factor, and each writes its audit row in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..admin.audit import record
from ..clock import utcnow
from ..extensions import db
from .models import AdminPayoutHold, PayoutHold
from .runs import PayoutError

NOTE_LIMIT = 500


def admin_hold_of(vendor_id) -> AdminPayoutHold | None:
    return db.session.get(AdminPayoutHold, vendor_id)


def place_hold(vendor, *, note: str, actor) -> AdminPayoutHold:
    note = (note or "").strip()
    if not note:
        raise PayoutError("Say why the shop's payouts are paused.")
    if len(note) > NOTE_LIMIT:
        raise PayoutError(f"Keep the note under {NOTE_LIMIT} characters.")
    if admin_hold_of(vendor.id) is not None:
        raise PayoutError(f"{vendor.name}'s payouts are already paused.")
    hold = AdminPayoutHold(
        vendor_id=vendor.id, note=note, placed_by_id=actor.id, placed_at=utcnow()
    )
    db.session.add(hold)
    record("payout_hold.placed", "vendor", vendor.id, actor=actor, note=note)
    db.session.flush()
    return hold


def lift_hold(vendor, *, actor) -> None:
    hold = admin_hold_of(vendor.id)
    if hold is None:
        raise PayoutError(f"{vendor.name}'s payouts are not paused.")
    db.session.delete(hold)
    # The shop's page stops showing the pause at once; the next run decides afresh.
    db.session.execute(
        sa.delete(PayoutHold).where(
            PayoutHold.vendor_id == vendor.id, PayoutHold.reason == "admin_hold"
        )
    )
    record("payout_hold.lifted", "vendor", vendor.id, actor=actor, note=hold.note)
    db.session.flush()
