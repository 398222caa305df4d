"""Which shop the signed-in vendor works for, for views: a 403 with the reason otherwise.

Views call these; services take the vendor (and the acting user) as arguments instead.

The shop and the member's role are read once per request, by the same statement that loads the
signed-in user (``load_signed_in_user``, Flask-Login's user loader), and kept on the request for
the view (``current_vendor``) and the page shell (``portal.shell.current_membership``): a vendor
page sends no statement of its own to learn who is asking.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, has_request_context, request
from flask_login import current_user

from ..extensions import db
from .models import Vendor, VendorMember
from .staff import OWNER_ONLY


@dataclass(frozen=True)
class Membership:
    """The signed-in user's shop (an entity of this request's session) and role in it."""

    vendor: Vendor
    role: str

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


@functools.cache
def _membership_statement() -> sa.Select:
    return (
        sa.select(Vendor, VendorMember.role)
        .join(VendorMember, VendorMember.vendor_id == Vendor.id)
        .where(VendorMember.user_id == sa.bindparam("user_id"))
    )


def _remember(user_id: uuid.UUID, membership: Membership | None) -> None:
    # On the request, not on ``g``: an app context can outlive one request. Keyed by the user, so
    # a request that signs someone else in (accepting an invitation) does not see the first one's.
    if has_request_context():
        request.vendor_membership = (user_id, membership)


@functools.lru_cache(maxsize=4)
def _with_membership(user_statement: sa.Select) -> sa.Select:
    # Built once per user statement (the session loader's is itself built once), so SQLAlchemy
    # keeps its cache key rather than computing it on every request.
    user_entity = user_statement.column_descriptions[0]["entity"]
    return (
        user_statement.add_columns(Vendor, VendorMember.role)
        .outerjoin(VendorMember, VendorMember.user_id == user_entity.id)
        .outerjoin(Vendor, Vendor.id == VendorMember.vendor_id)
    )


def load_signed_in_user(user_statement: sa.Select, params: dict):
    """Run ``user_statement`` (a ``select(User)`` that finds at most one user) with the user's
    shop and role outer-joined, keep the membership on the request, and return the user."""
    row = db.session.execute(_with_membership(user_statement), params).first()
    if row is None:
        return None
    user, vendor, role = row
    _remember(user.id, Membership(vendor, role) if vendor is not None else None)
    return user


def current_membership() -> Membership | None:
    """The signed-in user's shop and role (None: signed out, or not a shop's member)."""
    if not current_user.is_authenticated:
        return None
    kept = getattr(request, "vendor_membership", None)
    if kept is not None and kept[0] == current_user.id:
        return kept[1]
    row = db.session.execute(_membership_statement(), {"user_id": current_user.id}).first()
    membership = Membership(row.Vendor, row.role) if row is not None else None
    _remember(current_user.id, membership)
    return membership


def current_vendor() -> Vendor:
    """The shop the signed-in user works for (owner or staff)."""
    membership = current_membership()
    if membership is None:
        abort(403, description="Your account is not attached to a shop.")
    return membership.vendor


def current_owner_vendor() -> Vendor:
    """The signed-in owner's shop; staff get 403 with the reason."""
    vendor = current_vendor()
    if not current_membership().is_owner:
        abort(403, description=OWNER_ONLY)
    return vendor
