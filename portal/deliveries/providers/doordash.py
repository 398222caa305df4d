"""DoorDash Drive (API v2): every call the portal makes to DoorDash, and its webhooks read.

The one module that talks to DoorDash (docs/deliveries.md, "External provider"), over
``requests``. Each call carries a fresh JWT: HS256 signed with the base64url-decoded signing
secret, ``dd-ver: DD-JWT-V1`` in its header, claims ``aud`` ``doordash``, ``iss`` the developer
id, ``kid`` the key id, ``iat`` and a short ``exp``. Amounts go out in integer cents and phone
numbers in E.164. The delivery's ``external_delivery_id`` is our assignment's id, so a retry can
never book a second delivery: DoorDash answers ``409 duplicate_delivery_id`` and the caller reads
the first one back.

Endpoints: ``POST /drive/v2/quotes``, ``POST /drive/v2/quotes/{id}/accept``,
``POST /drive/v2/deliveries``, ``GET /drive/v2/deliveries/{id}``,
``PUT /drive/v2/deliveries/{id}/cancel``. DoorDash does not sign its webhooks: it sends the
``Authorization`` header value configured for the endpoint, compared here in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import jwt
import requests

from ...clock import utcnow
from ...money import from_cents, to_cents, to_money
from ..models import DELIVERY_STATUSES as OUR_STATUSES
from . import (
    CannotCancel,
    DeliveryNotFound,
    DeliveryRequest,
    DuplicateDelivery,
    ProviderDeliveryState,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    Quote,
    QuoteExpired,
    StatusReport,
)

NAME = "doordash"
JWT_VERSION = "DD-JWT-V1"
AUDIENCE = "doordash"
#: DoorDash's quotes are valid for five minutes after they are made.
QUOTE_VALIDITY = timedelta(minutes=5)
#: DoorDash refuses tokens that live longer than this.
MAX_JWT_SECONDS = 30 * 60

#: Each status webhook, in our status names (portal/deliveries/states.py). DASHER_CONFIRMED says a
#: Dasher accepted and is on the way to the pickup. The ``DASHER_ENROUTE_*`` tracking events,
#: when enabled at DoorDash, move a delivery on too. A cancellation "failed_to_return" while the
#: delivery is on its way back maps onto cancelled, which the status machine does not allow from
#: the return path: it is recorded and ignored (docs/deliveries.md).
EVENT_STATUSES = {
    "DASHER_CONFIRMED": "enroute_to_pickup",
    "DASHER_ENROUTE_TO_PICKUP": "enroute_to_pickup",
    "DASHER_CONFIRMED_PICKUP_ARRIVAL": "arrived_at_pickup",
    "DASHER_PICKED_UP": "picked_up",
    "DASHER_ENROUTE_TO_DROPOFF": "enroute_to_dropoff",
    "DASHER_CONFIRMED_DROPOFF_ARRIVAL": "arrived_at_dropoff",
    "DASHER_DROPPED_OFF": "delivered",
    "DELIVERY_CANCELLED": "cancelled",
    "DELIVERY_RETURN_INITIALIZED": "enroute_to_return",
    "DASHER_ENROUTE_TO_RETURN": "enroute_to_return",
    "DASHER_CONFIRMED_RETURN_ARRIVAL": "arrived_at_return",
    "DELIVERY_RETURNED": "returned",
}
#: DoorDash's ``delivery_status`` values are our names (PRODUCT.md), but for ``quote``.
DELIVERY_STATUSES = frozenset(OUR_STATUSES)
CANCELLATION_REASONS = {
    "cancelled_by_creator": "Cancelled by the marketplace",
    "failed_to_process_payment": "DoorDash could not process the payment",
    "failed_to_assign_and_refunded": "DoorDash found no Dasher",
    "failed_to_pickup": "The Dasher could not pick the order up",
    "failed_to_deliver": "The Dasher could not deliver the order",
    "failed_to_return": "The Dasher could not return the order",
}
PROOF_OF_DELIVERY = {"photo": "photo_required", "pin_code": "pin_code", "none": "none"}


class InvalidPhone(ValueError):
    """A phone number that cannot be written in E.164."""


def e164(phone: str | None, default_country_code: str = "1") -> str:
    """``+<country code><number>``: ``(503) 555-0101`` is ``+15035550101`` with the default
    country code 1; a number written with ``+`` or ``00`` keeps its own."""
    text = (phone or "").strip()
    if not text:
        raise InvalidPhone("no phone number")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = digits
    elif text.startswith("00"):
        number = digits[2:]
    elif default_country_code == "1" and len(digits) == 11 and digits.startswith("1"):
        number = digits
    else:
        number = default_country_code + digits
    if not 8 <= len(number) <= 15 or number.startswith("0"):
        raise InvalidPhone(f"{phone!r} is not a phone number E.164 can write")
    if number.startswith("1") and len(number) != 11:
        raise InvalidPhone(f"{phone!r} is not a North American number (10 digits)")
    return "+" + number


def signing_key(secret: str) -> bytes:
    """DoorDash's signing secret is base64url (without padding): the HMAC key is its bytes."""
    return base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))


def _cents(amount: Decimal) -> int:
    if to_money(amount) != amount or amount < 0:
        raise ValueError(f"a DoorDash amount is a whole number of cents >= 0, not {amount}")
    return to_cents(amount)


def _moment(text: str | None) -> datetime | None:
    if not text or not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    # A real event's time, not one a timestamp column (or its arithmetic) cannot hold.
    return moment if 2000 <= moment.year <= 2999 else None


def _location(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, Mapping):
        return None
    lat, lng = value.get("lat"), value.get("lng")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lng)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return (float(lat), float(lng))


def _money(value: Any) -> Decimal | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**8:
        return from_cents(value)
    return None


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class DoorDashGateway:
    name = NAME

    def __init__(
        self,
        *,
        developer_id: str,
        key_id: str,
        signing_secret: str,
        api_base: str,
        webhook_authorization: str,
        jwt_seconds: int = 300,
        timeout_seconds: float = 20,
        max_attempts: int = 3,
        retry_base_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 < jwt_seconds <= MAX_JWT_SECONDS:
            raise ValueError(f"a DoorDash JWT lives 1 to {MAX_JWT_SECONDS} seconds")
        self.developer_id = developer_id
        self.key_id = key_id
        self._signing_secret = signing_secret
        self.api_base = api_base.rstrip("/")
        self._webhook_authorization = webhook_authorization
        self.jwt_seconds = jwt_seconds
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.sleep = sleep
        self.session = requests.Session()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides) -> DoorDashGateway:
        settings = {
            "developer_id": config["DOORDASH_DEVELOPER_ID"],
            "key_id": config["DOORDASH_KEY_ID"],
            "signing_secret": config["DOORDASH_SIGNING_SECRET"],
            "api_base": config["DOORDASH_API_BASE"],
            "webhook_authorization": config["DOORDASH_WEBHOOK_AUTHORIZATION"],
            "jwt_seconds": config["DOORDASH_JWT_SECONDS"],
            "timeout_seconds": config["DOORDASH_TIMEOUT_SECONDS"],
            "max_attempts": config["DOORDASH_MAX_ATTEMPTS"],
            "retry_base_seconds": config["DOORDASH_RETRY_BASE_SECONDS"],
        }
        settings.update(overrides)
        return cls(**settings)

    # --- auth ---------------------------------------------------------------------------------

    def token(self, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        return jwt.encode(
            {
                "aud": AUDIENCE,
                "iss": self.developer_id,
                "kid": self.key_id,
                "iat": issued,
                "exp": issued + self.jwt_seconds,
            },
            signing_key(self._signing_secret),
            algorithm="HS256",
            headers={"dd-ver": JWT_VERSION},
        )

    def webhook_authorized(self, authorization: str | None) -> bool:
        """The ``Authorization`` header DoorDash sends is the configured one (constant time)."""
        if not authorization or not self._webhook_authorization:
            return False
        return hmac.compare_digest(
            authorization.encode("utf-8", "surrogatepass"),
            self._webhook_authorization.encode("utf-8"),
        )

    # --- calling ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict:
        """One call, retried when DoorDash is unavailable (429, 5xx, no answer). Every call is
        safe to repeat: the external delivery id makes creation idempotent at DoorDash."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._once(method, path, body)
            except ProviderUnavailable:
                if attempt == self.max_attempts:
                    raise
                ceiling = self.retry_base_seconds * 2 ** (attempt - 1)
                self.sleep(ceiling * random.uniform(0.5, 1.0))  # jitter, not secrecy
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, body: dict[str, Any] | None) -> dict:
        try:
            response = self.session.request(
                method,
                f"{self.api_base}/drive/v2{path}",
                json=body,
                headers={
                    "Authorization": f"Bearer {self.token()}",
                    "Accept": "application/json",
                },
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as error:
            raise ProviderUnavailable(f"DoorDash did not answer: {error}") from error
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code < 300:
            return data
        raise _refusal(response.status_code, data)

    # --- deliveries ---------------------------------------------------------------------------

    def body(self, request: DeliveryRequest) -> dict[str, Any]:
        """The delivery's fields as DoorDash names them (quote and create take the same)."""
        pickup, dropoff = request.pickup, request.dropoff
        body: dict[str, Any] = {
            "external_delivery_id": request.external_id,
            "pickup_address": pickup.address,
            "pickup_phone_number": pickup.phone,
            "dropoff_address": dropoff.address,
            "dropoff_phone_number": dropoff.phone,
            "order_value": _cents(request.order_value),
            "currency": request.currency,
            "tip": _cents(request.tip),
            "dropoff_requires_signature": request.requires_signature,
            "dropoff_options": {"proof_of_delivery": PROOF_OF_DELIVERY[request.proof]},
            "contactless_dropoff": request.proof == "photo",
            "action_if_undeliverable": "return_to_pickup",
            "items": [
                {
                    key: value
                    for key, value in {
                        "name": item.name,
                        "description": item.description,
                        "quantity": item.quantity,
                        "external_id": item.external_id,
                        "price": None if item.price is None else _cents(item.price),
                    }.items()
                    if value is not None
                }
                for item in request.items
            ],
        }
        optional = {
            "pickup_business_name": pickup.business_name,
            "pickup_instructions": pickup.instructions,
            "pickup_reference_tag": request.reference_tag,
            "dropoff_business_name": dropoff.business_name,
            "dropoff_instructions": dropoff.instructions,
            "dropoff_contact_given_name": dropoff.contact_given_name,
            "dropoff_contact_family_name": dropoff.contact_family_name,
        }
        body.update({key: value for key, value in optional.items() if value})
        if dropoff.location is not None:
            body["dropoff_location"] = {"lat": dropoff.location[0], "lng": dropoff.location[1]}
        return body

    def quote(self, request: DeliveryRequest) -> Quote:
        quoted_at = utcnow()
        data = self._request("POST", "/quotes", self.body(request))
        fee = _money(data.get("fee"))
        if fee is None:
            raise ProviderError("DoorDash's quote has no fee in cents", code="malformed")
        return Quote(
            external_id=data.get("external_delivery_id") or request.external_id,
            fee=fee,
            currency=data.get("currency") or request.currency,
            quoted_at=quoted_at,
            expires_at=quoted_at + QUOTE_VALIDITY,
            pickup_eta=_moment(data.get("pickup_time_estimated")),
            dropoff_eta=_moment(data.get("dropoff_time_estimated")),
        )

    def accept_quote(
        self, external_id: str, *, tip: Decimal | None = None
    ) -> ProviderDeliveryState:
        body = {} if tip is None else {"tip": _cents(tip)}
        return self._state(self._request("POST", f"/quotes/{external_id}/accept", body))

    def create(self, request: DeliveryRequest) -> ProviderDeliveryState:
        return self._state(self._request("POST", "/deliveries", self.body(request)))

    def get(self, external_id: str) -> ProviderDeliveryState:
        return self._state(self._request("GET", f"/deliveries/{external_id}"))

    def cancel(self, external_id: str) -> ProviderDeliveryState:
        return self._state(self._request("PUT", f"/deliveries/{external_id}/cancel", {}))

    @staticmethod
    def _state(data: dict[str, Any]) -> ProviderDeliveryState:
        status = data.get("delivery_status")
        if not isinstance(status, str) or not isinstance(data.get("external_delivery_id"), str):
            raise ProviderError("DoorDash's answer is not a delivery", code="malformed")
        return ProviderDeliveryState(
            external_id=data["external_delivery_id"],
            provider_status=status,
            status=status if status in DELIVERY_STATUSES else None,
            fee=_money(data.get("fee")) or Decimal("0.00"),
            tip=_money(data.get("tip")) or Decimal("0.00"),
            tracking_url=_text(data.get("tracking_url"), 2000),
            support_reference=_text(data.get("support_reference"), 100),
            driver_name=_text(data.get("dasher_name"), 100),
            driver_location=_location(data.get("dasher_location")),
            cancellation_reason=_text(data.get("cancellation_reason"), 100),
            raw=data,
        )

    # --- webhooks -----------------------------------------------------------------------------

    def report(self, event: Mapping[str, Any]) -> StatusReport:
        """A webhook's body in our terms; ``ValueError`` when it is not shaped as DoorDash's."""
        name = event.get("event_name")
        external_id = event.get("external_delivery_id")
        created = event.get("created_at")
        if not isinstance(name, str) or not 0 < len(name) <= 64:
            raise ValueError("event_name is not a short string")
        if not isinstance(external_id, str) or not 0 < len(external_id) <= 255:
            raise ValueError("external_delivery_id is not a short string")
        at = _moment(created)
        if created is not None and at is None:
            raise ValueError("created_at is not an ISO-8601 time")
        # DoorDash's events carry no id of their own: one is the delivery, the event and when.
        key = hashlib.sha256(f"{external_id}\x1f{name}\x1f{created}".encode()).hexdigest()
        reason = event.get("cancellation_reason")
        proof = {
            key: event[source]
            for key, source in (
                ("photo_url", "dropoff_verification_image_url"),
                ("signature_url", "dropoff_signature_image_url"),
            )
            if isinstance(event.get(source), str)
        }
        return StatusReport(
            event_key=key,
            event_name=name,
            external_id=external_id,
            at=at,
            status=EVENT_STATUSES.get(name),
            driver_location=_location(event.get("dasher_location")),
            driver_name=_text(event.get("dasher_name"), 100),
            tracking_url=_text(event.get("tracking_url"), 2000),
            fee=_money(event.get("fee")),
            reason=CANCELLATION_REASONS.get(reason, _text(reason, 200))
            if isinstance(reason, str)
            else None,
            proof=proof or None,
        )


def _refusal(status: int, data: dict[str, Any]) -> ProviderError:
    code = data.get("code") if isinstance(data.get("code"), str) else None
    message = data.get("message") if isinstance(data.get("message"), str) else f"HTTP {status}"
    fields = data.get("field_errors")
    if isinstance(fields, list) and fields:
        named = [
            f"{item.get('field')}: {item.get('error')}" for item in fields if isinstance(item, dict)
        ]
        message = f"{message} ({'; '.join(named)})"
    if status == 429 or status >= 500:
        return ProviderUnavailable(message, code=code, http_status=status)
    if status == 409 or code == "duplicate_delivery_id":
        return DuplicateDelivery(message, code=code, http_status=status)
    if status == 404:
        return DeliveryNotFound(message, code=code, http_status=status)
    if code == "quote_expired":
        return QuoteExpired(message, code=code, http_status=status)
    if code == "cannot_be_cancelled":
        return CannotCancel(message, code=code, http_status=status)
    return ProviderRefused(message, code=code, http_status=status)
