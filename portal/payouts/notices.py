"""The payout mails to a shop's owner: sent, failed (always), a hold started or changed reason.

Each is composed with ``send_after_commit``, so it goes out only if the change it announces is
committed. ``vendor_payout_notices`` says which of the optional ones the owner wants; no row
means both are on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ..auth.models import User
from ..extensions import db
from ..mail import send_after_commit
from ..vendors.models import Vendor, VendorMember
from .models import VendorPayoutNotices

#: A hold's reason in the owner's words (mail, admin pages).
HOLD_WORDS = {
    "no_account": "the shop has not set up payouts with Stripe yet",
    "payouts_disabled": "Stripe has not enabled payouts on the shop's account",
    "transfers_inactive": "Stripe has not activated transfers on the shop's account",
    "below_minimum": "the amount is below the minimum payout",
    "negative_net": "refunds exceed the sales since the last payout",
    "platform_balance": "the marketplace's Stripe balance does not cover it yet",
    "admin_hold": "the marketplace has paused the shop's payouts",
}


@dataclass(frozen=True)
class Owner:
    vendor_id: uuid.UUID
    shop_name: str
    email: str
    payout_sent: bool
    hold_changed: bool


def owners(vendor_ids: list[uuid.UUID]) -> dict[uuid.UUID, Owner]:
    """The owner of each shop, with the notices they want."""
    if not vendor_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Vendor.id,
            Vendor.name,
            User.email,
            sa.func.coalesce(VendorPayoutNotices.payout_sent, True),
            sa.func.coalesce(VendorPayoutNotices.hold_changed, True),
        )
        .join(
            VendorMember, sa.and_(VendorMember.vendor_id == Vendor.id, VendorMember.role == "owner")
        )
        .join(User, User.id == VendorMember.user_id)
        .outerjoin(VendorPayoutNotices, VendorPayoutNotices.vendor_id == Vendor.id)
        .where(Vendor.id.in_(vendor_ids))
    )
    return {row[0]: Owner(*row) for row in rows}


def payouts_sent(sent: list[tuple[uuid.UUID, Decimal, int]]) -> None:
    """``(vendor_id, amount, record_count)`` of payouts just paid: their owners in one read."""
    found = owners([vendor_id for vendor_id, _, _ in sent])
    for vendor_id, amount, record_count in sent:
        owner = found.get(vendor_id)
        if owner is not None and owner.payout_sent:
            send_after_commit(
                owner.email, "payout_sent", owner=owner, amount=amount, record_count=record_count
            )


def payout_failed(vendor_id: uuid.UUID, amount: Decimal, reason: str) -> None:
    owner = owners([vendor_id]).get(vendor_id)
    if owner is not None:  # not optional: the owner may have to act
        send_after_commit(owner.email, "payout_failed", owner=owner, amount=amount, reason=reason)


def holds_changed(holds: list[tuple[uuid.UUID, str, Decimal]]) -> None:
    """``(vendor_id, reason, amount_waiting)`` of holds that started or changed reason."""
    found = owners([vendor_id for vendor_id, _, _ in holds])
    for vendor_id, reason, amount in holds:
        owner = found.get(vendor_id)
        if owner is not None and owner.hold_changed:
            send_after_commit(
                owner.email,
                "payout_hold",
                owner=owner,
                amount=amount,
                reason=reason,
                words=HOLD_WORDS[reason],
            )
