"""The onboarding views' answers, shared by the vendor's and the driver's payouts pages: off to
one of Stripe's hosted pages, or back to the payouts page with what went wrong (nothing changed),
and the return from Stripe's onboarding (the account re-read, its state said)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, url_for

from . import onboarding
from .account_state import account_state
from .gateway import StripeGatewayError, StripeUnavailable

UNAVAILABLE = "Stripe did not answer just now. Nothing was changed; please try again in a minute."
DISCONNECTED = (
    "Your Stripe account was disconnected from the marketplace. Contact the marketplace to "
    "connect a new one."
)


def _back(page: str, message: str):
    flash(message, "error")
    return redirect(url_for(page))


def _problem(page: str, error: Exception):
    if isinstance(error, onboarding.AccountDisconnected):
        return _back(page, DISCONNECTED)
    if isinstance(error, StripeUnavailable):
        return _back(page, UNAVAILABLE)
    return _back(page, f"Stripe refused the request: {error.message}")


def to_stripe(make_url: Callable[[], str], *, page: str):
    """A redirect to the URL ``make_url`` asks Stripe for, or back to ``page`` saying why not."""
    try:
        url = make_url()
    except (onboarding.AccountDisconnected, StripeGatewayError) as error:
        return _problem(page, error)
    return redirect(url, code=303)


def back_from_onboarding(owner: Any, *, page: str):
    """Back from Stripe's hosted onboarding: re-read the account, say its state, show ``page``."""
    try:
        onboarding.refresh_account(owner)
    except (onboarding.AccountDisconnected, StripeGatewayError) as error:
        return _problem(page, error)
    state = account_state(owner)
    if state.is_active:
        flash("Payouts are set up: Stripe will send your earnings to your bank.", "success")
    else:
        flash(f"Your payouts account: {state.label.lower()}. {state.summary}", "info")
    return redirect(url_for(page))
