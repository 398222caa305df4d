"""Which shop the signed-in vendor works for, for views: a 403 with the reason otherwise.

Views call these; services take the vendor (and the acting user) as arguments instead.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from .models import Vendor
from .services import vendor_for_user
from .staff import OWNER_ONLY, is_owner


def current_vendor() -> Vendor:
    """The shop the signed-in user works for (owner or staff)."""
    vendor = vendor_for_user(current_user)
    if vendor is None:
        abort(403, description="Your account is not attached to a shop.")
    return vendor


def current_owner_vendor() -> Vendor:
    """The signed-in owner's shop; staff get 403 with the reason."""
    vendor = current_vendor()
    if not is_owner(current_user):
        abort(403, description=OWNER_ONLY)
    return vendor
