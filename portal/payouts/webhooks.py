"""Stripe's two webhook endpoints (docs/payouts.md "Webhooks").

``POST /webhooks/stripe`` receives the platform's events, ``POST /webhooks/stripe/connect`` the
events of connected accounts (``event.account`` names the account); each is verified with its own
signing secret by ``stripe.Webhook.construct_event`` (through the gateway). Authenticated by the
signature, not a session: exempt from CSRF, no sign-in.

Every event's id is stored in the same transaction as what its handler changed, so a replay
(Stripe retries, a resend from the dashboard) finds the id and changes nothing, and a handler that
fails stores nothing and answers 5xx for Stripe to retry. Events may come out of order, so account
events never trust the object they carry: the handler re-reads the account from Stripe. Unknown
types are stored and acknowledged with 200. An event whose ``livemode`` is not the mode of the
configured secret key is refused (400) and nothing is stored: a test-mode endpoint must not act
on live events, nor the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError

from ..extensions import csrf, db
from ..inputs import load_json, reads_raw_body
from ..money import from_cents
from ..orders.webhooks import read_body
from ..payments.events import HANDLERS as PAYMENT_HANDLERS
from . import transfer_events
from .connect_models import StripeEvent, StripeOnboarding, VendorBankPayout
from .gateway import Account, InvalidSignature, StripeGatewayError, StripeRefused, gateway
from .holders import DRIVER, VENDOR, Holder
from .models import ConnectedAccount
from .onboarding import record_account

log = logging.getLogger(__name__)

bp = Blueprint("stripe_webhooks", __name__)

MAX_BODY_BYTES = 512 * 1024
Handler = Callable[[dict[str, Any]], None]


def live_mode_configured() -> bool:
    """The mode the portal runs in, by its secret key (``sk_live_`` / ``rk_live_``: live)."""
    return current_app.config["STRIPE_SECRET_KEY"].startswith(("sk_live_", "rk_live_"))


def _moment(unix: int | None) -> datetime | None:
    return None if unix is None else datetime.fromtimestamp(unix, UTC)


# --- Connect handlers -------------------------------------------------------------------------


def _holder_of(account_id: str) -> Holder | None:
    """The vendor or driver whose account this is: its ``connected_accounts`` row, else its claim
    (an event can come before the request that created the account has written its row)."""
    for model in (ConnectedAccount, StripeOnboarding):
        row = db.session.execute(
            sa.select(model.vendor_id, model.driver_id).where(model.stripe_account_id == account_id)
        ).first()
        if row is not None:
            return Holder(VENDOR, row[0]) if row[0] is not None else Holder(DRIVER, row[1])
    return None


def _claimed_holder(account: Account) -> Holder | None:
    """The vendor or driver named in the account's metadata, if it has claimed an account."""
    metadata = account.raw.get("metadata") or {}
    for column in (VENDOR, DRIVER):
        named = metadata.get(column)
        if not named:
            continue
        holder_id = db.session.scalar(
            sa.select(getattr(StripeOnboarding, column)).where(
                sa.cast(getattr(StripeOnboarding, column), sa.String) == named,
                StripeOnboarding.stripe_account_id.is_(None)
                | (StripeOnboarding.stripe_account_id == account.id),
            )
        )
        if holder_id is not None:
            return Holder(column, holder_id)
    return None


def on_account_changed(event: dict[str, Any]) -> None:
    """``account.updated``, ``capability.updated``: keep capabilities, charges and payouts
    enabled and the requirements current, as Stripe has them now (re-read: an older event may
    arrive after a newer one). A vendor's account or a driver's alike."""
    account_id = event.get("account") or event["data"]["object"].get("id")
    holder = _holder_of(account_id)
    if holder is not None and _disconnected(holder):
        return
    try:
        account = gateway().retrieve_account(account_id)
    except StripeRefused:
        if holder is None:  # not an account of this platform's holders: nothing to keep
            log.info("Stripe account %s cannot be read; event %s ignored", account_id, event["id"])
            return
        raise
    if holder is None:
        holder = _claimed_holder(account)
        if holder is None:
            log.info("Stripe account %s is no holder's; event %s ignored", account_id, event["id"])
            return
    record_account(holder, account)


def _disconnected(holder: Holder) -> bool:
    return (
        db.session.scalar(
            sa.select(StripeOnboarding.disconnected_at).where(holder.where(StripeOnboarding))
        )
        is not None
    )


def on_deauthorized(event: dict[str, Any]) -> None:
    """``account.application.deauthorized``: the account left the platform. The row is kept and
    marked; it can receive nothing, so the runs hold the vendor (or driver)."""
    holder = _holder_of(event["account"])
    if holder is None:
        return
    onboarding = db.session.scalar(
        sa.select(StripeOnboarding).where(holder.where(StripeOnboarding))
    )
    if onboarding is not None and onboarding.disconnected_at is None:
        onboarding.disconnected_at = _moment(event["created"])
    account = db.session.scalar(sa.select(ConnectedAccount).where(holder.where(ConnectedAccount)))
    if account is not None:
        account.charges_enabled = account.payouts_enabled = False
        account.capabilities = dict.fromkeys(account.capabilities or {}, "inactive")


# A later status never goes back to an earlier one (``payout.created`` arriving after
# ``payout.paid``); ``failed`` and ``canceled`` can follow ``paid`` (a bank returns the money).
MAX_CENTS = 10**12  # what vendor_bank_payouts.amount, NUMERIC(12, 2), holds
PAYOUT_STATUS_RANK = {"pending": 0, "in_transit": 1, "paid": 2, "failed": 3, "canceled": 3}


def on_bank_payout(event: dict[str, Any]) -> None:
    """``payout.*`` on a vendor's account: what Stripe's payout to the vendor's bank did."""
    payout = event["data"]["object"]
    holder = _holder_of(event["account"])
    if holder is None or holder.is_driver:  # drivers' bank payouts are not kept (yet)
        return
    vendor_id = holder.id
    existing = db.session.get(VendorBankPayout, payout["id"], with_for_update=True)
    status = payout["status"]
    if existing is not None and PAYOUT_STATUS_RANK.get(status, 0) < PAYOUT_STATUS_RANK.get(
        existing.status, 0
    ):
        return
    cents = payout["amount"]
    if not isinstance(cents, int) or isinstance(cents, bool) or not 0 <= cents < MAX_CENTS:
        raise ValueError("amount is not a number of cents")
    values = {
        "status": status,
        "amount": from_cents(cents),
        "currency": payout["currency"],
        "arrival_date": _moment(payout.get("arrival_date")),
        "failure_code": payout.get("failure_code"),
        "failure_message": payout.get("failure_message"),
    }
    if existing is None:
        db.session.add(
            VendorBankPayout(
                id=payout["id"],
                vendor_id=vendor_id,
                stripe_account_id=event["account"],
                created=_moment(payout["created"]),
                **values,
            )
        )
    else:
        for key, value in values.items():
            setattr(existing, key, value)


CONNECT_HANDLERS: dict[str, Handler] = {
    "account.updated": on_account_changed,
    "capability.updated": on_account_changed,
    "account.application.deauthorized": on_deauthorized,
    "payout.created": on_bank_payout,
    "payout.updated": on_bank_payout,
    "payout.paid": on_bank_payout,
    "payout.failed": on_bank_payout,
    "payout.canceled": on_bank_payout,
}


def on_transfer(event: dict[str, Any]) -> None:
    transfer_events.on_transfer_event(event["type"], event["data"]["object"])


def on_balance_available(event: dict[str, Any]) -> None:
    transfer_events.on_balance_available(event["data"]["object"])


# The platform's events: type -> handler(event): the payout runs' transfers and balance, and
# the checkouts' payments (portal/payments/events.py).
PLATFORM_HANDLERS: dict[str, Handler] = {
    "transfer.created": on_transfer,
    "transfer.updated": on_transfer,
    "transfer.reversed": on_transfer,
    "balance.available": on_balance_available,
    **PAYMENT_HANDLERS,
}


# --- the endpoints ----------------------------------------------------------------------------


TEXT_LIMIT = 255  # the event's id, type and account, as stripe_events keeps them
CREATED_LIMIT = 2**40  # a Unix time in seconds, far beyond any real one


def _shape_problem(event: dict[str, Any]) -> str | None:
    """What in an event's envelope is not as Stripe sends it (None: nothing)."""
    for name in ("id", "type"):
        if not isinstance(event.get(name), str) or not 0 < len(event[name]) <= TEXT_LIMIT:
            return f"{name} is not a short string"
    account = event.get("account")
    if account is not None and (not isinstance(account, str) or len(account) > TEXT_LIMIT):
        return "account is not a short string"
    created = event.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 < created < CREATED_LIMIT:
        return "created is not a Unix time"
    if not isinstance(event.get("livemode"), bool):
        return "livemode is not true or false"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "data.object is not an object"
    return None


def _error(status: int, reason: str):
    return jsonify(error=reason), status


def _receive(endpoint: str, verify: Callable, handlers: dict[str, Handler]):
    raw = read_body(MAX_BODY_BYTES)
    if raw is None:
        return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        # Deep nesting, NUL bytes, lone surrogates: refused before the stripe package parses it.
        if not isinstance(load_json(raw), dict):
            return _error(400, "not an event: the body is not a JSON object")
    except (ValueError, UnicodeDecodeError) as error:
        return _error(400, f"not an event: {error}")
    try:
        event = verify(raw, request.headers.get("Stripe-Signature")).to_dict()
    except InvalidSignature as error:
        return _error(400, f"signature: {error.message}")
    problem = _shape_problem(event)
    if problem:
        return _error(400, f"malformed event: {problem}")
    if bool(event.get("livemode")) != live_mode_configured():
        mode = "live" if event.get("livemode") else "test"
        return _error(400, f"a {mode}-mode event, but the portal runs in the other mode")
    if endpoint == "connect" and not event.get("account"):
        return _error(400, "a Connect event names its account (event.account)")
    handler = handlers.get(event["type"])
    stored = db.session.execute(
        insert(StripeEvent)
        .values(
            id=event["id"],
            endpoint=endpoint,
            type=event["type"],
            account=event.get("account"),
            stripe_created=_moment(event["created"]),
            handled=handler is not None,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEvent.id)
    ).scalar()
    if stored is None:  # a replay: a concurrent delivery waited on the row above, then lands here
        db.session.rollback()
        return jsonify(status="duplicate"), 200
    try:
        if handler is not None:
            handler(event)
        db.session.commit()
    except (KeyError, TypeError, ValueError, OverflowError, DataError) as error:
        # Signed, yet not shaped as Stripe's objects are: nothing kept, the reason said.
        db.session.rollback()
        return _error(400, f"malformed {event['type']} event: {type(error).__name__}")
    except StripeGatewayError as error:
        # Stripe itself could not be read: keep nothing, let Stripe send the event again.
        db.session.rollback()
        log.warning("Stripe event %s not handled: %s", event["id"], error.message)
        return _error(503, "could not read Stripe; send the event again")
    except Exception:
        db.session.rollback()
        raise
    return jsonify(status="handled" if handler else "ignored"), 200


@bp.post("/webhooks/stripe")
@csrf.exempt
@reads_raw_body
def platform():
    return _receive("platform", gateway().platform_event, PLATFORM_HANDLERS)


@bp.post("/webhooks/stripe/connect")
@csrf.exempt
@reads_raw_body
def connect():
    return _receive("connect", gateway().connect_event, CONNECT_HANDLERS)
