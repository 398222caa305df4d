"""The demo's payouts accounts: some shops (and every driver who delivered) onboarded through the
portal's own onboarding service against the local Stripe server (their hosted onboarding completed
through its control API), one shop left half-way, the others not set up; and one payout run. Run
after the marketplace is committed; a second run changes nothing (on a restarted local server,
whose accounts live in memory, it sets them up again)."""

from __future__ import annotations

import requests
import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..deliveries.models import Driver
from ..extensions import db
from ..payouts import marking, onboarding, runs
from ..payouts.account_state import account_state
from ..payouts.connect_models import StripeOnboarding
from ..payouts.driver_earnings import settle_due_driver_earnings
from ..payouts.driver_models import DriverEarning
from ..payouts.gateway import StripeGatewayError, StripeRefused, gateway
from ..payouts.holders import Holder
from ..payouts.models import ConnectedAccount, PayoutRun
from ..vendors.models import Vendor

# Shops whose owners finished Stripe's onboarding; one that started and stopped; the rest (Belmont
# Noodle Bar among them, a demo sign-in) have not set up payouts.
ONBOARDED = (
    "Rose City Books",
    "Alberta Street Gifts",
    "Division Street Tacos",
    "Mississippi Pizza Co",
    "Sellwood Green Grocer",
    "Northwest Spice Pantry",
)
STARTED = ("Hawthorne Hardware",)


class LocalStripeMissing(RuntimeError):
    """The local Stripe server is not answering at ``STRIPE_API_BASE``."""


def _complete_hosted_onboarding(account_id: str) -> None:
    """What the shop's owner does on Stripe's hosted page: the local server's control API."""
    base = current_app.config["STRIPE_API_BASE"].rstrip("/")
    response = requests.post(
        f"{base}/_control/accounts/{account_id}/complete_onboarding", json={}, timeout=10
    )
    response.raise_for_status()


def _forget_lost_account(owner) -> None:
    """The local server keeps its accounts in memory: after a restart against a kept demo
    database the shop's (or driver's) account is gone there, so the demo sets it up again."""
    holder = Holder.of(owner)
    account_id = db.session.scalar(
        sa.select(ConnectedAccount.stripe_account_id).where(holder.where(ConnectedAccount))
    )
    if account_id is None:
        return
    try:
        gateway().retrieve_account(account_id)
    except StripeRefused as error:
        if error.http_status != 404:
            raise
        for model in (ConnectedAccount, StripeOnboarding):
            db.session.execute(sa.delete(model).where(holder.where(model)))
        db.session.commit()


def onboard_demo_shops() -> list[str]:
    """Onboard the demo's shops; the names of those now active."""
    base = current_app.config["STRIPE_API_BASE"]
    if "api.stripe.com" in base:
        raise LocalStripeMissing("the demo onboards shops on the local Stripe server only")
    shops = db.session.scalars(
        sa.select(Vendor).where(Vendor.name.in_(ONBOARDED + STARTED)).order_by(Vendor.name)
    ).all()
    active = []
    for vendor in shops:
        _onboard(vendor, complete=vendor.name in ONBOARDED)
        if account_state(vendor.id).is_active:
            active.append(vendor.name)
    return active


def _onboard(owner, *, complete: bool) -> None:
    """Set a shop or a driver up through the onboarding service; ``complete``: as if they
    finished Stripe's hosted onboarding."""
    base = current_app.config["STRIPE_API_BASE"]
    try:
        _forget_lost_account(owner)
        account_id = onboarding.ensure_account(owner)
        if complete and not account_state(owner).is_active:
            _complete_hosted_onboarding(account_id)
            # The portal is not serving yet, so its webhooks are not heard: read it back.
            onboarding.refresh_account(owner)
    except (StripeGatewayError, requests.RequestException) as error:
        raise LocalStripeMissing(
            f"the local Stripe server at {base} did not answer ({error}); start it with "
            "`python -m portal.payouts.stripe_local`"
        ) from error


def onboard_demo_drivers() -> list[str]:
    """Onboard every demo driver who has delivered (their earnings go out in the demo's run);
    the names of those now active. The others have not set up payouts."""
    if "api.stripe.com" in current_app.config["STRIPE_API_BASE"]:
        raise LocalStripeMissing("the demo onboards drivers on the local Stripe server only")
    earners = db.session.scalars(
        sa.select(Driver)
        .where(sa.exists().where(DriverEarning.driver_id == Driver.id))
        .order_by(Driver.full_name)
    ).all()
    for driver in earners:
        _onboard(driver, complete=True)
    return [d.full_name for d in earners if account_state(d).is_active]


# What the operator's top-up of the platform balance stands for in the demo (docs/payouts.md).
DEMO_PLATFORM_BALANCE_CENTS = 5_000_000


def pay_demo_run() -> PayoutRun | None:
    """One payout run through the runs service, once: the onboarded shops are paid their settled
    records, the others are held with their reasons. None when a run was made before."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(PayoutRun)):
        return None
    base = current_app.config["STRIPE_API_BASE"].rstrip("/")
    try:
        requests.post(
            f"{base}/_control/balance",
            json={"currency": "usd", "available": DEMO_PLATFORM_BALANCE_CENTS},
            timeout=10,
        ).raise_for_status()
    except requests.RequestException as error:
        raise LocalStripeMissing(f"the local Stripe server at {base} did not answer") from error
    settle_due_driver_earnings(utcnow())  # the daily settle job's drivers' part
    run = runs.run_payouts(trigger="admin")
    db.session.commit()
    # What the worker does next with the job the run queued: the demo's records are written.
    marking.mark_paid_records()
    return run
