"""The provider interface: what the portal asks of an external delivery provider, whoever it is.

A provider quotes a delivery, books it by accepting the quote while it is valid (or creates it
outright), reads it back, cancels it, and turns its status webhooks into :class:`StatusReport`
values in our status names (``portal/deliveries/states.py``), which the webhook endpoint applies
with ``states.apply_reported``: forward only. DoorDash Drive is the one implemented
(``doordash.py``, the only module that calls it); ``provider(name)`` hands out the configured
one. Amounts cross this interface as ``Decimal`` dollars, positions as (latitude, longitude).

Errors: :class:`ProviderUnavailable` (worth retrying later), :class:`ProviderRefused` and its
kinds (:class:`QuoteExpired`, :class:`DuplicateDelivery`, :class:`DeliveryNotFound`,
:class:`CannotCancel`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from flask import current_app

#: Proof of delivery the provider's driver is asked for.
PROOF_OPTIONS = ("photo", "pin_code", "none")


# --- errors -----------------------------------------------------------------------------------


class ProviderError(Exception):
    """A provider call that did not succeed; ``code`` is the provider's error code, if any."""

    retryable = False

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class ProviderUnavailable(ProviderError):
    """Rate limited, the provider's own failure, or no answer: try again later."""

    retryable = True


class ProviderRefused(ProviderError):
    """The provider refused the request as it is (a bad field, a state it cannot take)."""


class QuoteExpired(ProviderRefused):
    """The quote is no longer valid: quote again, or create the delivery outright."""


class DuplicateDelivery(ProviderRefused):
    """A delivery with this external id exists already (an earlier attempt booked it)."""


class DeliveryNotFound(ProviderRefused):
    """The provider knows no delivery of this external id."""


class CannotCancel(ProviderRefused):
    """The provider will not cancel the delivery any more (its driver has picked it up)."""


# --- what the portal sends ------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """A pickup or a dropoff: a one-line address, a phone in E.164, who is there."""

    address: str
    phone: str
    business_name: str | None = None
    contact_given_name: str | None = None
    contact_family_name: str | None = None
    instructions: str | None = None
    location: tuple[float, float] | None = None  # (latitude, longitude)


@dataclass(frozen=True)
class Item:
    """One line of the order as an outside party sees it (``obfuscation.outside_line_name``)."""

    name: str
    quantity: int
    description: str | None = None
    price: Decimal | None = None  # each
    external_id: str | None = None


@dataclass(frozen=True)
class DeliveryRequest:
    external_id: str  # our delivery assignment's id: the provider's idempotency key
    pickup: Stop
    dropoff: Stop
    order_value: Decimal
    items: tuple[Item, ...] = ()
    reference_tag: str | None = None  # what the driver tells the shop ("Order #1042")
    proof: str = "photo"  # one of PROOF_OPTIONS
    requires_signature: bool = False
    tip: Decimal = Decimal("0.00")
    currency: str = "USD"


# --- what it answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    external_id: str
    fee: Decimal
    currency: str
    expires_at: datetime
    quoted_at: datetime
    pickup_eta: datetime | None = None
    dropoff_eta: datetime | None = None


@dataclass(frozen=True)
class ProviderDeliveryState:
    """A delivery as the provider has it."""

    external_id: str
    provider_status: str
    status: str | None  # in our names, when it maps onto one
    fee: Decimal
    tip: Decimal
    tracking_url: str | None
    support_reference: str | None = None
    driver_name: str | None = None
    driver_location: tuple[float, float] | None = None
    cancellation_reason: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusReport:
    """One status webhook in our terms."""

    event_key: str  # what identifies the event, for "seen before?"
    event_name: str
    external_id: str
    at: datetime | None
    status: str | None  # our status it reports, or None (a position update, an unknown event)
    driver_location: tuple[float, float] | None = None
    driver_name: str | None = None
    tracking_url: str | None = None
    fee: Decimal | None = None
    reason: str | None = None  # why it was cancelled or returned
    proof: Mapping[str, Any] | None = None  # the provider's proof-of-delivery links


class Provider(Protocol):
    name: str

    def quote(self, request: DeliveryRequest) -> Quote: ...

    def accept_quote(
        self, external_id: str, *, tip: Decimal | None = None
    ) -> ProviderDeliveryState: ...

    def create(self, request: DeliveryRequest) -> ProviderDeliveryState: ...

    def get(self, external_id: str) -> ProviderDeliveryState: ...

    def cancel(self, external_id: str) -> ProviderDeliveryState: ...

    def report(self, event: Mapping[str, Any]) -> StatusReport: ...

    def webhook_authorized(self, authorization: str | None) -> bool: ...


def provider(name: str | None = None) -> Provider:
    """The app's provider of that name (default: ``EXTERNAL_DELIVERY_PROVIDER``), made once."""
    name = name or current_app.config["EXTERNAL_DELIVERY_PROVIDER"]
    if name != "doordash":
        raise LookupError(f"no delivery provider {name!r} (known: doordash)")
    extensions = current_app.extensions
    if "doordash_gateway" not in extensions:
        from .doordash import DoorDashGateway

        extensions["doordash_gateway"] = DoorDashGateway.from_config(current_app.config)
    return extensions["doordash_gateway"]


__all__ = [
    "PROOF_OPTIONS",
    "CannotCancel",
    "DeliveryNotFound",
    "DeliveryRequest",
    "DuplicateDelivery",
    "Item",
    "Provider",
    "ProviderDeliveryState",
    "ProviderError",
    "ProviderRefused",
    "ProviderUnavailable",
    "Quote",
    "QuoteExpired",
    "StatusReport",
    "Stop",
    "provider",
]
