"""The people of a shop: its owner, the staff they invite, and who may manage whom.

Staff see the shop's pages (``access.current_vendor()`` resolves any member); only the owner
manages staff and payouts: those views call ``access.current_owner_vendor()``.

An invitation is a link with a random token; only the token's SHA-256 is stored, so the link is
shown once, to the owner who created it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..auth.services import create_user, find_user_by_email, normalize_email
from ..clock import utcnow
from ..extensions import db
from .models import Vendor, VendorInvitation, VendorMember

OWNER_ONLY = "Only the shop's owner can manage staff and payouts."


class StaffError(ValueError):
    """A staff change the rules refuse; the message says why."""


class InvitationUnusable(Exception):
    """The link cannot be used: ``status`` is 404 (unknown) or 410 (expired, revoked or used)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --- who is the owner ---------------------------------------------------------------------------


def membership_of(user) -> VendorMember | None:
    return db.session.scalar(sa.select(VendorMember).where(VendorMember.user_id == user.id))


def is_owner(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == "owner"


# --- members ------------------------------------------------------------------------------------


def list_members(vendor: Vendor) -> list[VendorMember]:
    return list(
        db.session.scalars(
            sa.select(VendorMember)
            .where(VendorMember.vendor_id == vendor.id)
            .order_by(sa.case((VendorMember.role == "owner", 0), else_=1), VendorMember.created_at)
            .options(joinedload(VendorMember.user))
        )
    )


def remove_member(vendor: Vendor, member_id: uuid.UUID) -> VendorMember:
    """Take a staff member off the shop (their account stays). The owner cannot be removed."""
    member = db.session.scalar(
        sa.select(VendorMember).where(
            VendorMember.id == member_id, VendorMember.vendor_id == vendor.id
        )
    )
    if member is None:
        raise LookupError("There is no such member of your shop.")
    if member.role == "owner":
        raise StaffError("The shop's owner cannot be removed.")
    db.session.delete(member)
    db.session.flush()
    return member


# --- invitations --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_staff(
    vendor: Vendor, email: str, *, invited_by, now: datetime | None = None
) -> tuple[VendorInvitation, str]:
    """Create an invitation; returns it with the token (shown once, never stored).

    An earlier pending invitation of the same address to this shop is revoked, so one link works.
    Whether the address has an account, and of what kind, is not said here (that would reveal
    accounts to any shop owner): the link tells its holder if they cannot join.
    """
    now = now or utcnow()
    email = normalize_email(email)
    existing = find_user_by_email(email)
    if existing is not None:
        membership = membership_of(existing)
        if membership is not None and membership.vendor_id == vendor.id:
            raise StaffError(f"{email} is already a member of your shop.")
    for pending in pending_invitations(vendor, now=now):
        if pending.email == email:
            pending.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = VendorInvitation(
        vendor_id=vendor.id,
        email=email,
        token_hash=hash_token(token),
        invited_by_id=invited_by.id,
        expires_at=now + timedelta(days=current_app.config["STAFF_INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def pending_invitations(vendor: Vendor, *, now: datetime | None = None) -> list[VendorInvitation]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(VendorInvitation)
            .where(
                VendorInvitation.vendor_id == vendor.id,
                VendorInvitation.accepted_at.is_(None),
                VendorInvitation.revoked_at.is_(None),
                VendorInvitation.expires_at > now,
            )
            .order_by(VendorInvitation.created_at.desc())
        )
    )


def revoke_invitation(
    vendor: Vendor, invitation_id: uuid.UUID, *, now: datetime | None = None
) -> VendorInvitation:
    invitation = db.session.scalar(
        sa.select(VendorInvitation).where(
            VendorInvitation.id == invitation_id, VendorInvitation.vendor_id == vendor.id
        )
    )
    if invitation is None:
        raise LookupError("There is no such invitation for your shop.")
    if invitation.accepted_at is not None:
        raise StaffError("That invitation was accepted already; remove the member instead.")
    invitation.revoked_at = invitation.revoked_at or now or utcnow()
    db.session.flush()
    return invitation


def invitation_for_token(
    token: str, *, now: datetime | None = None, lock: bool = False
) -> VendorInvitation:
    """The usable invitation behind a link, or InvitationUnusable saying why not.

    ``lock`` holds the row until the commit, so two tabs cannot both accept one link.
    """
    now = now or utcnow()
    query = sa.select(VendorInvitation).where(VendorInvitation.token_hash == hash_token(token))
    if lock:
        query = query.with_for_update()
    invitation = db.session.scalar(query)
    if invitation is None:
        raise InvitationUnusable(
            404,
            "This invitation link is not valid. Check that you copied "
            "all of it, or ask the shop's owner for a new one.",
        )
    if invitation.accepted_at is not None:
        raise InvitationUnusable(410, "This invitation has been used already. Sign in instead.")
    if invitation.revoked_at is not None:
        raise InvitationUnusable(410, "This invitation was withdrawn by the shop's owner.")
    if invitation.expires_at <= now:
        raise InvitationUnusable(
            410, "This invitation has expired. Ask the shop's owner for a new link."
        )
    return invitation


def _refusal(user: User, membership: VendorMember | None) -> str | None:
    if user.role != "vendor":
        return (
            f"the account {user.email} is a {user.role} account; only vendor accounts join shops."
        )
    if membership is not None:
        return f"the account {user.email} already works for a shop."
    return None


def refusal_for(user: User, invitation: VendorInvitation) -> str | None:
    """Why ``user`` may not accept ``invitation``, or None when they may."""
    refusal = _refusal(user, membership_of(user))
    if refusal:
        return "You cannot accept this invitation: " + refusal
    if normalize_email(user.email) != invitation.email:
        return (
            f"This invitation is for {invitation.email}, and you are signed in as {user.email}. "
            "Sign out and open the link again."
        )
    return None


def accept_invitation(
    invitation: VendorInvitation, user: User, *, now: datetime | None = None
) -> VendorMember:
    """``user`` joins the invitation's shop as staff."""
    refusal = refusal_for(user, invitation)
    if refusal:
        raise StaffError(refusal)
    member = VendorMember(vendor_id=invitation.vendor_id, user_id=user.id, role="staff")
    db.session.add(member)
    invitation.accepted_at = now or utcnow()
    invitation.accepted_by_id = user.id
    db.session.flush()
    return member


def join_with_new_account(
    invitation: VendorInvitation, password: str, *, now: datetime | None = None
) -> User:
    """Create a vendor account for the invited address and join the shop as staff.

    Raises ``auth.services.EmailTaken`` (before writing) when the address has an account already.
    """
    user = create_user(invitation.email, password, "vendor")
    accept_invitation(invitation, user, now=now)
    return user
