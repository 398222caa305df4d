"""Setting a vendor or a driver up for payouts: one Express-style connected account per holder,
ever (``holders.Holder``: the same rules for both).

A double click or a second tab must not create a second account, and ``connected_accounts`` can
only be written once Stripe has answered (its ``stripe_account_id`` is ``UNIQUE NOT NULL``). So the
attempt is claimed first, in a ``stripe_onboarding`` row of its own carrying the creation's
idempotency key, and committed; each attempt then locks that row while it asks Stripe, so a second
request waits and finds the account the first one wrote. Were the first request cut off after
Stripe made the account, the next one sends the same key and Stripe answers with that account
(within the 24 hours Stripe remembers a key).

Each click on "Set up payouts" or "Continue setup" makes a fresh single-use Account Link; its
``refresh_url`` mints another, its ``return_url`` re-reads the account (``refresh_account``).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from .. import clock
from ..extensions import db
from ..mail import public_url
from .connect_models import StripeOnboarding
from .gateway import Account, gateway
from .holders import Holder
from .models import ConnectedAccount

ACCOUNT_TYPE = "express"
# Where Stripe sends the holder back: (refresh_url endpoint, return_url endpoint).
LINK_ENDPOINTS = {
    "vendor_id": ("payouts.onboarding_refresh", "payouts.onboarding_return"),
    "driver_id": ("driver_payouts.onboarding_refresh", "driver_payouts.onboarding_return"),
}


class AccountDisconnected(Exception):
    """The holder's account was disconnected from the platform: no link can fix that."""


def idempotency_key_for(owner: Any) -> str:
    holder = Holder.of(owner)
    if holder.is_driver:
        return f"portal-connect-account-driver-{holder.id}"
    return f"portal-connect-account-{holder.id}"


def _claim(holder: Holder, user_id: uuid.UUID | None) -> None:
    """The holder's claim row, made once and committed before any Stripe call."""
    db.session.execute(
        insert(StripeOnboarding)
        .values(
            **holder.values(),
            idempotency_key=idempotency_key_for(holder),
            claimed_by_id=user_id,
            claimed_at=clock.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[holder.column])
    )
    db.session.commit()


def claim_of(owner: Any) -> StripeOnboarding | None:
    holder = Holder.of(owner)
    return db.session.scalar(sa.select(StripeOnboarding).where(holder.where(StripeOnboarding)))


def record_account(owner: Any, account: Account) -> None:
    """Write (or bring up to date) the holder's ``connected_accounts`` row from Stripe's answer,
    and the claim's ``details_submitted``. A disconnected account is left as it was marked.
    ``owner``: a Vendor, a Driver, a ``Holder``, or a vendor's id."""
    holder = Holder.of(owner)
    onboarding = claim_of(holder)
    if onboarding is not None and onboarding.disconnected_at is not None:
        return
    values = {
        "capabilities": account.capabilities,
        "charges_enabled": account.charges_enabled,
        "payouts_enabled": account.payouts_enabled,
        "requirements": account.requirements,
    }
    db.session.execute(
        insert(ConnectedAccount)
        .values(
            **holder.values(),
            stripe_account_id=account.id,
            account_type=ACCOUNT_TYPE,
            **values,
        )
        .on_conflict_do_update(
            index_elements=[holder.column],
            set_={**values, "updated_at": sa.func.current_timestamp()},
        )
    )
    if onboarding is not None:
        onboarding.stripe_account_id = account.id
        onboarding.details_submitted = account.details_submitted


def ensure_account(owner: Any, *, user_id: uuid.UUID | None = None) -> str:
    """The holder's (a vendor's or a driver's) connected account id, created at Stripe on the
    first call only."""
    holder = Holder.of(owner)
    existing = _account_id(holder)
    if existing:
        return existing
    _claim(holder, user_id)
    # Concurrent attempts queue here; the first one's account is what the others find.
    onboarding = db.session.execute(
        sa.select(StripeOnboarding)
        .where(holder.where(StripeOnboarding))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if onboarding.disconnected_at is not None:
        db.session.rollback()
        raise AccountDisconnected
    existing = _account_id(holder)
    if existing:
        db.session.commit()
        return existing
    email, name = _contact(holder)
    try:
        account = gateway().create_express_account(
            idempotency_key=onboarding.idempotency_key,
            email=email,
            business_name=name,
            metadata=holder.metadata,
        )
    except Exception:
        db.session.rollback()
        raise
    record_account(holder, account)
    db.session.commit()
    return account.id


def onboarding_link(owner: Any, *, user_id: uuid.UUID | None = None) -> str:
    """A fresh single-use Account Link into Stripe's hosted onboarding (the account is created
    first if the holder has none)."""
    holder = Holder.of(owner)
    account_id = ensure_account(holder, user_id=user_id)
    _refuse_disconnected(holder)
    refresh, back = LINK_ENDPOINTS[holder.column]
    link = gateway().create_account_link(
        account_id, refresh_url=public_url(refresh), return_url=public_url(back)
    )
    return link.url


def refresh_account(owner: Any) -> Account | None:
    """Re-read the holder's account from Stripe and keep what it says (the return from the
    hosted onboarding; a webhook may not have arrived yet)."""
    holder = Holder.of(owner)
    account_id = _account_id(holder)
    if account_id is None:
        return None
    _refuse_disconnected(holder)
    account = gateway().retrieve_account(account_id)
    record_account(holder, account)
    db.session.commit()
    return account


def dashboard_link(owner: Any) -> str:
    """A one-time link into the holder's Stripe Express dashboard."""
    holder = Holder.of(owner)
    account_id = _account_id(holder)
    if account_id is None:
        raise LookupError("no connected account")
    _refuse_disconnected(holder)
    return gateway().create_login_link(account_id)


# Where Stripe hosts onboarding and the Express dashboard (Account Links, login links).
STRIPE_HOSTED_ORIGIN = "https://connect.stripe.com"


def hosted_origins() -> tuple[str, ...]:
    """Origins of Stripe's hosted pages that the payouts page's forms redirect to: Stripe's, and
    the local Stripe server's own when the portal talks to one (development, tests, the demo)."""
    parts = urlsplit(current_app.config["STRIPE_API_BASE"])
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.netloc.endswith("stripe.com"):
        return (STRIPE_HOSTED_ORIGIN,)
    return (STRIPE_HOSTED_ORIGIN, origin)


def _account_id(holder: Holder) -> str | None:
    return db.session.scalar(
        sa.select(ConnectedAccount.stripe_account_id).where(holder.where(ConnectedAccount))
    )


def _refuse_disconnected(holder: Holder) -> None:
    disconnected = db.session.scalar(
        sa.select(StripeOnboarding.disconnected_at).where(holder.where(StripeOnboarding))
    )
    if disconnected is not None:
        raise AccountDisconnected


def _contact(holder: Holder) -> tuple[str | None, str | None]:
    """The email Stripe prefills, and the business name (a shop's; a driver is an individual)."""
    from ..auth.models import User
    from ..deliveries.models import Driver
    from ..vendors.models import Vendor, VendorMember

    if holder.is_driver:
        return db.session.scalar(sa.select(Driver.email).where(Driver.id == holder.id)), None
    email = db.session.scalar(
        sa.select(User.email)
        .join(VendorMember, VendorMember.user_id == User.id)
        .where(VendorMember.vendor_id == holder.id, VendorMember.role == "owner")
        .limit(1)
    )
    return email, db.session.scalar(sa.select(Vendor.name).where(Vendor.id == holder.id))
