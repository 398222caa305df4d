"""Whose cart this request shows: the signed-in customer's, or the guest's named by the session.

Staff accounts (vendors, drivers, admins) have no cart: a shop's owner buying from the
marketplace signs in with a customer account, so their orders and points are a customer's.
A guest's cart is made on the first add, not on a visit, so crawlers leave no empty carts.
"""

from __future__ import annotations

import uuid

from flask import session
from flask_login import current_user

from ..customers.services import customer_for_user
from . import service
from .models import Cart

SESSION_KEY = "cart_id"
STAFF_MESSAGE = (
    "Carts are for customer accounts: sign out to shop as a guest, or sign in as a customer."
)


class NoCart(service.CartError):
    """This account cannot have a cart."""


def _session_cart_id() -> uuid.UUID | None:
    try:
        return uuid.UUID(str(session.get(SESSION_KEY)))
    except ValueError:
        return None


def current_cart(*, create: bool = False) -> Cart | None:
    if current_user.is_authenticated:
        customer = customer_for_user(current_user) if current_user.role == "customer" else None
        if customer is None:
            if create:
                raise NoCart(STAFF_MESSAGE)
            return None
        return service.customer_cart(customer.id)
    cart = service.guest_cart(_session_cart_id())
    if cart is None and create:
        cart = service.new_guest_cart()
        session[SESSION_KEY] = str(cart.id)
    return cart


def refusal() -> str | None:
    """Why this account has no cart, or None when it may have one."""
    if current_user.is_authenticated and current_user.role != "customer":
        return STAFF_MESSAGE
    return None


def merge_at_sign_in(user) -> list[str]:
    """Called as ``user`` signs in on this browser: the guest's cart becomes theirs."""
    guest = service.guest_cart(_session_cart_id())
    session.pop(SESSION_KEY, None)
    if guest is None or user.role != "customer":
        return []
    customer = customer_for_user(user)
    if customer is None:
        return []
    return service.merge_into(guest, service.customer_cart(customer.id))
