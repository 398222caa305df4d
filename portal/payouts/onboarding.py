"""Setting a vendor up for payouts: one Express-style connected account per vendor, ever.

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
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from .. import clock
from ..extensions import db
from ..mail import public_url
from ..vendors.models import Vendor
from .connect_models import StripeOnboarding
from .gateway import Account, gateway
from .models import ConnectedAccount

ACCOUNT_TYPE = "express"


class AccountDisconnected(Exception):
    """The vendor's account was disconnected from the platform: no link can fix that."""


def idempotency_key_for(vendor_id: uuid.UUID) -> str:
    return f"portal-connect-account-{vendor_id}"


def _claim(vendor: Vendor, user_id: uuid.UUID | None) -> None:
    """The vendor's claim row, made once and committed before any Stripe call."""
    db.session.execute(
        insert(StripeOnboarding)
        .values(
            vendor_id=vendor.id,
            idempotency_key=idempotency_key_for(vendor.id),
            claimed_by_id=user_id,
            claimed_at=clock.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["vendor_id"])
    )
    db.session.commit()


def record_account(vendor_id: uuid.UUID, account: Account) -> None:
    """Write (or bring up to date) the vendor's ``connected_accounts`` row from Stripe's answer,
    and the claim's ``details_submitted``. A disconnected account is left as it was marked."""
    onboarding = db.session.get(StripeOnboarding, vendor_id)
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
            vendor_id=vendor_id,
            stripe_account_id=account.id,
            account_type=ACCOUNT_TYPE,
            **values,
        )
        .on_conflict_do_update(
            index_elements=["vendor_id"],
            set_={**values, "updated_at": sa.func.current_timestamp()},
        )
    )
    if onboarding is not None:
        onboarding.stripe_account_id = account.id
        onboarding.details_submitted = account.details_submitted


def ensure_account(vendor: Vendor, *, user_id: uuid.UUID | None = None) -> str:
    """The vendor's connected account id, created at Stripe on the first call only."""
    existing = _account_id(vendor.id)
    if existing:
        return existing
    _claim(vendor, user_id)
    # Concurrent attempts queue here; the first one's account is what the others find.
    onboarding = db.session.execute(
        sa.select(StripeOnboarding)
        .where(StripeOnboarding.vendor_id == vendor.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if onboarding.disconnected_at is not None:
        db.session.rollback()
        raise AccountDisconnected
    existing = _account_id(vendor.id)
    if existing:
        db.session.commit()
        return existing
    try:
        account = gateway().create_express_account(
            idempotency_key=onboarding.idempotency_key,
            email=_owner_email(vendor),
            business_name=vendor.name,
            metadata={"vendor_id": str(vendor.id)},
        )
    except Exception:
        db.session.rollback()
        raise
    record_account(vendor.id, account)
    db.session.commit()
    return account.id


def onboarding_link(vendor: Vendor, *, user_id: uuid.UUID | None = None) -> str:
    """A fresh single-use Account Link into Stripe's hosted onboarding (the account is created
    first if the vendor has none)."""
    account_id = ensure_account(vendor, user_id=user_id)
    _refuse_disconnected(vendor.id)
    link = gateway().create_account_link(
        account_id,
        refresh_url=public_url("payouts.onboarding_refresh"),
        return_url=public_url("payouts.onboarding_return"),
    )
    return link.url


def refresh_account(vendor: Vendor) -> Account | None:
    """Re-read the vendor's account from Stripe and keep what it says (the return from the
    hosted onboarding; a webhook may not have arrived yet)."""
    account_id = _account_id(vendor.id)
    if account_id is None:
        return None
    _refuse_disconnected(vendor.id)
    account = gateway().retrieve_account(account_id)
    record_account(vendor.id, account)
    db.session.commit()
    return account


def dashboard_link(vendor: Vendor) -> str:
    """A one-time link into the vendor's Stripe Express dashboard."""
    account_id = _account_id(vendor.id)
    if account_id is None:
        raise LookupError("no connected account")
    _refuse_disconnected(vendor.id)
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


def _account_id(vendor_id: uuid.UUID) -> str | None:
    return db.session.scalar(
        sa.select(ConnectedAccount.stripe_account_id).where(ConnectedAccount.vendor_id == vendor_id)
    )


def _refuse_disconnected(vendor_id: uuid.UUID) -> None:
    disconnected = db.session.scalar(
        sa.select(StripeOnboarding.disconnected_at).where(StripeOnboarding.vendor_id == vendor_id)
    )
    if disconnected is not None:
        raise AccountDisconnected


def _owner_email(vendor: Vendor) -> str | None:
    from ..auth.models import User
    from ..vendors.models import VendorMember

    return db.session.scalar(
        sa.select(User.email)
        .join(VendorMember, VendorMember.user_id == User.id)
        .where(VendorMember.vendor_id == vendor.id, VendorMember.role == "owner")
        .limit(1)
    )
