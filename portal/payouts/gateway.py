"""Every call the portal makes to Stripe, through the official ``stripe`` package (docs/payouts.md).

Built on ``stripe.StripeClient`` and its ``v1`` services only. Per-call options (the idempotency
key) go in ``options=``. Stripe objects are read with ``to_dict()`` here and handed out as the
small value types below, so no other module touches a Stripe object; money leaves and enters as
``Decimal`` through ``portal/money.py``.

Stripe's errors become a few domain errors: ``StripeUnavailable`` (429, 5xx, the connection:
worth retrying, which ``with_retries`` does with backoff) and ``StripeRefused`` with its kinds
(``BalanceInsufficient``, ``TransferDeclined``, ``IdempotencyKeyReused``): not worth retrying as
they are.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import stripe
from flask import current_app

from ..money import from_cents, to_cents, to_money

T = TypeVar("T")

# What the portal's connected accounts are: Express-style (Stripe collects what it needs on its
# hosted onboarding; the platform pays Stripe's fees and carries losses; the Express dashboard).
EXPRESS_CONTROLLER = {
    "fees": {"payer": "application"},
    "losses": {"payments": "application"},
    "requirement_collection": "stripe",
    "stripe_dashboard": {"type": "express"},
}


# --- errors -----------------------------------------------------------------------------------


class StripeGatewayError(Exception):
    """A Stripe call that did not succeed; ``code`` is Stripe's error code when it gave one."""

    retryable = False

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class StripeUnavailable(StripeGatewayError):
    """Rate limited (429), Stripe's own failure (5xx) or no answer at all: try again later, with
    the same idempotency key."""

    retryable = True


class StripeRefused(StripeGatewayError):
    """Stripe refused the request (``invalid_request_error`` and kin): retrying it unchanged
    gets the same answer."""


class BalanceInsufficient(StripeRefused):
    """The platform's available balance does not cover the transfer."""


class TransferDeclined(StripeRefused):
    """A ``card_error``: the money movement itself was declined."""


class IdempotencyKeyReused(StripeRefused):
    """The idempotency key was first used with other parameters."""


class CardDeclined(TransferDeclined):
    """A ``card_error`` on a payment: the customer's card was declined (``decline_code`` says
    why, when Stripe did)."""


class InvalidSignature(StripeGatewayError):
    """A webhook whose ``Stripe-Signature`` does not verify with the endpoint's secret."""


def _translate(error: stripe.StripeError) -> StripeGatewayError:
    status = error.http_status
    code = error.code
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError) or (
        isinstance(error, stripe.APIError) and (status is None or status >= 500)
    ):
        return StripeUnavailable(message, code=code or "unavailable", http_status=status)
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyKeyReused(message, code="idempotency_error", http_status=status)
    if isinstance(error, stripe.CardError):
        return TransferDeclined(message, code=code, http_status=status)
    if code == "balance_insufficient":
        return BalanceInsufficient(message, code=code, http_status=status)
    if status is not None and status >= 500:
        return StripeUnavailable(message, code=code, http_status=status)
    return StripeRefused(message, code=code, http_status=status)


# --- what the portal reads back ---------------------------------------------------------------


def _moment(unix: int | None) -> datetime | None:
    return None if unix is None else datetime.fromtimestamp(unix, UTC)


@dataclass(frozen=True)
class Account:
    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    capabilities: dict[str, str]
    requirements: dict[str, Any]
    raw: dict[str, Any]  # the whole object, for the connected_accounts JSONB columns

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Account:
        return cls(
            id=data["id"],
            charges_enabled=bool(data.get("charges_enabled")),
            payouts_enabled=bool(data.get("payouts_enabled")),
            details_submitted=bool(data.get("details_submitted")),
            capabilities=dict(data.get("capabilities") or {}),
            requirements=dict(data.get("requirements") or {}),
            raw=data,
        )

    @property
    def transfers_active(self) -> bool:
        return self.capabilities.get("transfers") == "active"


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: Decimal
    currency: str
    destination: str
    transfer_group: str | None
    payout_id: str | None
    amount_reversed: Decimal
    created: datetime

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Transfer:
        destination = data.get("destination")
        return cls(
            id=data["id"],
            amount=from_cents(data["amount"]),
            currency=data["currency"],
            destination=destination["id"] if isinstance(destination, dict) else destination,
            transfer_group=data.get("transfer_group"),
            payout_id=(data.get("metadata") or {}).get("payout_id"),
            amount_reversed=from_cents(data.get("amount_reversed") or 0),
            created=_moment(data["created"]),
        )


@dataclass(frozen=True)
class TransferReversal:
    id: str
    transfer_id: str
    amount: Decimal


@dataclass(frozen=True)
class Balance:
    available: dict[str, Decimal]
    pending: dict[str, Decimal]

    def available_in(self, currency: str) -> Decimal:
        return self.available.get(currency, Decimal("0.00"))


@dataclass(frozen=True)
class PaymentError:
    code: str | None
    decline_code: str | None
    message: str | None


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: Decimal
    amount_received: Decimal
    currency: str
    client_secret: str | None
    transfer_group: str | None
    latest_charge: str | None
    metadata: dict[str, str]
    last_payment_error: PaymentError | None
    created: datetime
    raw: dict[str, Any]  # the whole object, read as a webhook's would be

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> PaymentIntent:
        error = data.get("last_payment_error")
        charge = data.get("latest_charge")
        return cls(
            id=data["id"],
            status=data["status"],
            amount=from_cents(data["amount"]),
            amount_received=from_cents(data.get("amount_received") or 0),
            currency=data["currency"],
            client_secret=data.get("client_secret"),
            transfer_group=data.get("transfer_group"),
            latest_charge=charge["id"] if isinstance(charge, dict) else charge,
            metadata=dict(data.get("metadata") or {}),
            last_payment_error=(
                PaymentError(error.get("code"), error.get("decline_code"), error.get("message"))
                if error
                else None
            ),
            created=_moment(data["created"]),
            raw=data,
        )


@dataclass(frozen=True)
class Refund:
    id: str
    amount: Decimal
    currency: str
    charge: str | None
    payment_intent: str | None
    status: str | None
    metadata: dict[str, str]
    created: datetime

    @classmethod
    def from_stripe(cls, data: dict[str, Any]) -> Refund:
        def named(value):
            return value["id"] if isinstance(value, dict) else value

        return cls(
            id=data["id"],
            amount=from_cents(data["amount"]),
            currency=data["currency"],
            charge=named(data.get("charge")),
            payment_intent=named(data.get("payment_intent")),
            status=data.get("status"),
            metadata=dict(data.get("metadata") or {}),
            created=_moment(data["created"]),
        )


def _by_currency(amounts: list[dict[str, Any]] | None) -> dict[str, Decimal]:
    return {item["currency"]: from_cents(item["amount"]) for item in amounts or []}


def _cents(amount: Decimal) -> int:
    if to_money(amount) != amount or amount <= 0:
        raise ValueError(f"a Stripe amount is a positive whole number of cents, not {amount}")
    return to_cents(amount)


# --- the gateway ------------------------------------------------------------------------------


class StripeGateway:
    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str,
        webhook_secret: str,
        connect_webhook_secret: str,
        currency: str = "usd",
        country: str = "US",
        max_attempts: int = 4,
        retry_base_seconds: float = 0.5,
        retry_max_seconds: float = 8.0,
        timeout_seconds: float = 30.0,
        webhook_tolerance_seconds: int = 300,
        sleep: Callable[[float], None] = time.sleep,
    ):
        # The package's own retries are off: with_retries below retries, so its count, backoff
        # and idempotency key are the portal's.
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )
        self._secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.connect_webhook_secret = connect_webhook_secret
        self.currency = currency
        self.country = country
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self.sleep = sleep

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides) -> StripeGateway:
        settings = {
            "secret_key": config["STRIPE_SECRET_KEY"],
            "api_base": config["STRIPE_API_BASE"],
            "webhook_secret": config["STRIPE_WEBHOOK_SECRET"],
            "connect_webhook_secret": config["STRIPE_CONNECT_WEBHOOK_SECRET"],
            "currency": config["PAYOUT_CURRENCY"],
            "country": config["STRIPE_ACCOUNT_COUNTRY"],
            "max_attempts": config["STRIPE_MAX_ATTEMPTS"],
            "retry_base_seconds": config["STRIPE_RETRY_BASE_SECONDS"],
            "retry_max_seconds": config["STRIPE_RETRY_MAX_SECONDS"],
            "timeout_seconds": config["STRIPE_TIMEOUT_SECONDS"],
            "webhook_tolerance_seconds": config["STRIPE_WEBHOOK_TOLERANCE_SECONDS"],
        }
        settings.update(overrides)
        return cls(**settings)

    # --- calling ------------------------------------------------------------------------------

    def call(self, request: Callable[[], T]) -> T:
        """One attempt, Stripe's errors translated."""
        try:
            return request()
        except stripe.SignatureVerificationError as error:
            raise InvalidSignature(str(error)) from error
        except stripe.StripeError as error:
            raise _translate(error) from error

    def with_retries(self, request: Callable[[], T]) -> T:
        """``request`` until it succeeds or is refused: ``StripeUnavailable`` is retried up to
        ``max_attempts`` in all, waiting exponentially longer (with jitter) between attempts.
        A POST must carry its own idempotency key, so that every attempt is the same request."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.call(request)
            except StripeUnavailable:
                if attempt == self.max_attempts:
                    raise
                self.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # jitter, not secrecy

    # --- connected accounts -------------------------------------------------------------------

    def create_express_account(
        self,
        *,
        idempotency_key: str,
        email: str | None = None,
        business_name: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Account:
        params: dict[str, Any] = {
            "controller": EXPRESS_CONTROLLER,
            "capabilities": {"transfers": {"requested": True}},
            "country": self.country,
            "metadata": metadata or {},
        }
        if email:
            params["email"] = email
        if business_name:
            params["business_profile"] = {"name": business_name}
        account = self.with_retries(
            lambda: self.client.v1.accounts.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return Account.from_stripe(account.to_dict())

    def retrieve_account(self, account_id: str) -> Account:
        account = self.with_retries(lambda: self.client.v1.accounts.retrieve(account_id))
        return Account.from_stripe(account.to_dict())

    def create_account_link(
        self, account_id: str, *, refresh_url: str, return_url: str
    ) -> AccountLink:
        """A fresh single-use link to Stripe's hosted onboarding for the account."""
        link = self.with_retries(
            lambda: self.client.v1.account_links.create(
                params={
                    "account": account_id,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                }
            )
        )
        return AccountLink(url=link.url, expires_at=_moment(link.expires_at))

    def create_login_link(self, account_id: str) -> str:
        """A one-time URL into the account's Stripe Express dashboard."""
        link = self.with_retries(lambda: self.client.v1.accounts.login_links.create(account_id))
        return link.url

    # --- transfers ----------------------------------------------------------------------------

    def create_transfer(
        self,
        *,
        amount: Decimal,
        destination: str,
        transfer_group: str,
        payout_id: str,
        idempotency_key: str,
        description: str | None = None,
    ) -> Transfer:
        params: dict[str, Any] = {
            "amount": _cents(amount),
            "currency": self.currency,
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": {"payout_id": payout_id},
        }
        if description:
            params["description"] = description
        transfer = self.with_retries(
            lambda: self.client.v1.transfers.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return Transfer.from_stripe(transfer.to_dict())

    def list_transfers(self, transfer_group: str, *, page_size: int = 100) -> list[Transfer]:
        """Every transfer of the group, newest first, across pages (Stripe's at most 100)."""
        params = {"transfer_group": transfer_group, "limit": page_size}
        return [
            Transfer.from_stripe(item)
            for item in self.every_page(self.client.v1.transfers.list, params)
        ]

    def every_page(self, list_call: Callable[..., Any], params: dict[str, Any]) -> list[dict]:
        """Every item a Stripe list call gives, newest first, across its cursor pages."""
        items: list[dict] = []
        while True:
            page = self.with_retries(lambda params=params: list_call(params=params)).to_dict()
            items += page["data"]
            if not page["has_more"] or not page["data"]:
                return items
            params = {**params, "starting_after": page["data"][-1]["id"]}

    def find_transfer(self, *, transfer_group: str, payout_id: str) -> Transfer | None:
        """The transfer made for a payout, if one was: how a resend older than Stripe's memory
        of idempotency keys (24 hours) is told from a first send."""
        for transfer in self.list_transfers(transfer_group):
            if transfer.payout_id == payout_id:
                return transfer
        return None

    def retrieve_transfer(self, transfer_id: str) -> Transfer:
        return Transfer.from_stripe(
            self.with_retries(lambda: self.client.v1.transfers.retrieve(transfer_id)).to_dict()
        )

    def find_transfer_reversal(
        self, transfer_id: str, *, payout_id: str
    ) -> TransferReversal | None:
        """The reversal of ``transfer_id`` made for ``payout_id`` (its ``metadata``), if any: as
        ``find_transfer``, for a recovery whose key Stripe may have forgotten."""
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = self.with_retries(
                lambda params=params: self.client.v1.transfers.reversals.list(
                    transfer_id, params=params
                )
            ).to_dict()
            for item in page["data"]:
                if (item.get("metadata") or {}).get("payout_id") == payout_id:
                    return TransferReversal(
                        id=item["id"], transfer_id=transfer_id, amount=from_cents(item["amount"])
                    )
            if not page["has_more"] or not page["data"]:
                return None
            params = {**params, "starting_after": page["data"][-1]["id"]}

    def create_transfer_reversal(
        self,
        transfer_id: str,
        *,
        idempotency_key: str,
        amount: Decimal | None = None,
        metadata: dict[str, str] | None = None,
    ) -> TransferReversal:
        params: dict[str, Any] = {"metadata": metadata or {}}
        if amount is not None:
            params["amount"] = _cents(amount)
        reversal = self.with_retries(
            lambda: self.client.v1.transfers.reversals.create(
                transfer_id, params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return TransferReversal(
            id=reversal.id, transfer_id=transfer_id, amount=from_cents(reversal.amount)
        )

    def retrieve_balance(self) -> Balance:
        balance = self.with_retries(lambda: self.client.v1.balance.retrieve()).to_dict()
        return Balance(
            available=_by_currency(balance.get("available")),
            pending=_by_currency(balance.get("pending")),
        )

    # --- webhooks -----------------------------------------------------------------------------

    def platform_event(self, payload: bytes, signature: str | None) -> stripe.Event:
        """The platform endpoint's event, verified with ``STRIPE_WEBHOOK_SECRET``."""
        return self._event(payload, signature, self.webhook_secret)

    def connect_event(self, payload: bytes, signature: str | None) -> stripe.Event:
        """The Connect endpoint's event (``event.account`` names the connected account),
        verified with ``STRIPE_CONNECT_WEBHOOK_SECRET``."""
        return self._event(payload, signature, self.connect_webhook_secret)

    def _event(self, payload: bytes, signature: str | None, secret: str) -> stripe.Event:
        try:
            return self.call(
                lambda: stripe.Webhook.construct_event(
                    payload,
                    signature,
                    secret,
                    tolerance=self.webhook_tolerance_seconds,
                    api_key=self._secret_key,
                )
            )
        except ValueError as error:  # not JSON
            raise InvalidSignature(f"not an event: {error}") from error

    # --- customer payments (docs/payments.md) -------------------------------------------------

    def _payment_call(self, request: Callable[[], T]) -> T:
        """``with_retries``, a card decline told apart from a transfer's."""
        try:
            return self.with_retries(request)
        except TransferDeclined as error:
            cause = error.__cause__
            decline = getattr(cause, "error", None)
            raise CardDeclined(
                error.message,
                code=getattr(decline, "decline_code", None) or error.code,
                http_status=error.http_status,
            ) from cause

    def create_payment_intent(
        self,
        *,
        amount: Decimal,
        currency: str,
        transfer_group: str,
        idempotency_key: str,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        statement_descriptor_suffix: str | None = None,
        receipt_email: str | None = None,
    ) -> PaymentIntent:
        """``POST /v1/payment_intents``: one per checkout, card step by Stripe's Payment Element
        (``automatic_payment_methods``), separate charges and transfers (``transfer_group``)."""
        params: dict[str, Any] = {
            "amount": _cents(amount),
            "currency": currency.lower(),
            "transfer_group": transfer_group,
            "automatic_payment_methods": {"enabled": True},
            "metadata": metadata or {},
        }
        for name, value in (
            ("description", description),
            ("statement_descriptor_suffix", statement_descriptor_suffix),
            ("receipt_email", receipt_email),
        ):
            if value:
                params[name] = value
        intent = self.with_retries(
            lambda: self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return PaymentIntent.from_stripe(intent.to_dict())

    def retrieve_payment_intent(self, intent_id: str) -> PaymentIntent:
        intent = self.with_retries(lambda: self.client.v1.payment_intents.retrieve(intent_id))
        return PaymentIntent.from_stripe(intent.to_dict())

    def confirm_payment_intent(
        self,
        intent_id: str,
        *,
        payment_method: str,
        return_url: str,
        idempotency_key: str,
    ) -> PaymentIntent:
        """``POST /v1/payment_intents/{id}/confirm``: what Stripe.js does in the browser; the portal
        calls it only with Stripe's test payment methods (tests, the demo). ``CardDeclined`` when
        the card is declined."""
        intent = self._payment_call(
            lambda: self.client.v1.payment_intents.confirm(
                intent_id,
                params={"payment_method": payment_method, "return_url": return_url},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return PaymentIntent.from_stripe(intent.to_dict())

    def cancel_payment_intent(
        self, intent_id: str, *, idempotency_key: str, reason: str = "abandoned"
    ) -> PaymentIntent:
        intent = self.with_retries(
            lambda: self.client.v1.payment_intents.cancel(
                intent_id,
                params={"cancellation_reason": reason},
                options={"idempotency_key": idempotency_key},
            )
        )
        return PaymentIntent.from_stripe(intent.to_dict())

    def create_refund(
        self,
        *,
        idempotency_key: str,
        payment_intent: str | None = None,
        charge: str | None = None,
        amount: Decimal | None = None,
        metadata: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> Refund:
        """``POST /v1/refunds`` of a payment (by its intent or its charge): ``amount``, or all that
        is left of it."""
        params: dict[str, Any] = {"metadata": metadata or {}}
        if (payment_intent is None) == (charge is None):
            raise ValueError("a refund names a payment intent or a charge")
        if payment_intent:
            params["payment_intent"] = payment_intent
        else:
            params["charge"] = charge
        if amount is not None:
            params["amount"] = _cents(amount)
        if reason:
            params["reason"] = reason
        refund = self.with_retries(
            lambda: self.client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return Refund.from_stripe(refund.to_dict())

    def list_refunds(self, *, charge: str, page_size: int = 100) -> list[Refund]:
        """Every refund of a charge, newest first, across pages."""
        params = {"charge": charge, "limit": page_size}
        return [
            Refund.from_stripe(item)
            for item in self.every_page(self.client.v1.refunds.list, params)
        ]


def gateway() -> StripeGateway:
    """The app's gateway, made once from its configuration."""
    extensions = current_app.extensions
    if "stripe_gateway" not in extensions:
        extensions["stripe_gateway"] = StripeGateway.from_config(current_app.config)
    return extensions["stripe_gateway"]
