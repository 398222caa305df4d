"""``POST /webhooks/orders``: signed order events from an external storefront (docs/webhooks.md).

The request is authenticated by its signature, not by a session, so it is exempt from CSRF and
needs no sign-in. This module checks the signature, parses the body into an ``IncomingEvent``
(refusing anything malformed, floats for money included) and hands it to ``intake``; one commit
per request, and a rollback on any error, so nothing is ever half-applied.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError

from ..extensions import csrf, db
from ..inputs import UnsafeInput, fit_integer, load_json, reads_raw_body
from . import intake
from .intake import IncomingEvent, IncomingOrder, IncomingRefund
from .models import OrderItem
from .services import InvalidOrder, LineItem, OrderStateConflict, RefundItem
from .tips import MAX_DRIVER_TIP

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

#: ``order_events.source`` and ``order_external_refs.source`` of orders that came this way.
SOURCE = "webhook"
SIGNATURE_HEADER = "Portal-Signature"
MAX_BODY_BYTES = 1024 * 1024
# Money as a decimal string with at most two decimals and what NUMERIC(10,2) holds.
MONEY_PATTERN = re.compile(r"\d{1,8}(\.\d{1,2})?")
TEXT_LIMIT = 255
ORDER_NUMBER_LIMIT = 64  # orders.external_number
# Non-UUID checkout ids (e.g. a MedusaJS cart id) map to a stable UUID, so one checkout's orders
# still share their ``checkout_id``.
CHECKOUT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:marketplace-portal:checkout")


class InvalidSignature(Exception):
    """Missing, malformed, stale or wrong ``Portal-Signature``."""


class MalformedEvent(ValueError):
    """The body does not follow the contract; the message says where."""


# --- signature --------------------------------------------------------------------------------


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<raw body>"``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Portal-Signature`` value a sender puts on ``body`` (used by tests and tools)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify_signature(
    header: str | None, body: bytes, secret: str, tolerance: int, now: float
) -> None:
    """Raise ``InvalidSignature`` unless one ``v1`` matches and ``t`` is within the tolerance.

    Several ``v1`` values are accepted (a sender rotating its secret signs with both); each is
    compared in constant time.
    """
    if not header:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance")
    expected = compute_signature(secret, timestamp, body)
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise InvalidSignature("signature does not match")


# --- parsing ------------------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise MalformedEvent(f"{name} is not allowed in JSON")


def parse_event(raw: bytes, *, source: str = SOURCE, now: float | None = None) -> IncomingEvent:
    """The event in a request body, or ``MalformedEvent`` naming the first problem."""
    try:
        # parse_float keeps JSON numbers with fractions apart (as Decimal) so money can refuse them.
        body = load_json(raw, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        if isinstance(error, MalformedEvent | UnsafeInput):
            raise MalformedEvent(str(error)) from None
        raise MalformedEvent("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise MalformedEvent("body must be a JSON object")
    event_id = _text(body, "id", "id")
    event_type = _text(body, "type", "type")
    if event_type not in intake.ORDER_EVENT_TYPES:
        raise MalformedEvent(f"unknown event type {event_type!r}")
    occurred_at = _created(body, now if now is not None else time.time())
    data = _object(body, "data", "data")
    order_data = _object(data, "order", "data.order")
    external_id = _text(order_data, "external_id", "data.order.external_id")

    order = _placed_order(order_data, source) if event_type == "order.placed" else None
    refund = (
        _refund(_object(data, "refund", "data.refund")) if event_type == "order.refunded" else None
    )
    return IncomingEvent(
        source=source,
        event_id=event_id,
        type=event_type,
        occurred_at=occurred_at,
        external_id=external_id,
        order=order,
        refund=refund,
        payload=json.loads(raw),  # the log keeps the body as sent (already checked above)
    )


def _created(body: dict, now: float) -> datetime:
    created = body.get("created")
    if isinstance(created, bool) or not isinstance(created, int) or created <= 0:
        raise MalformedEvent("created must be a unix time in whole seconds")
    if created > now + current_app.config["ORDER_WEBHOOK_TOLERANCE_SECONDS"]:
        raise MalformedEvent("created is in the future")
    return datetime.fromtimestamp(created, UTC)


def _placed_order(data: dict, source: str) -> IncomingOrder:
    customer = _object(data, "customer", "data.order.customer")
    email = _text(customer, "email", "data.order.customer.email").strip().lower()
    if "@" not in email.strip("@"):
        raise MalformedEvent("data.order.customer.email is not an email address")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise MalformedEvent("data.order.items must be a non-empty list")
    delivery = data.get("delivery")
    if delivery is not None and not isinstance(delivery, dict):
        raise MalformedEvent("data.order.delivery must be an object")
    dropoff = (delivery or {}).get("dropoff_address")
    if dropoff is not None and not isinstance(dropoff, dict):
        raise MalformedEvent("data.order.delivery.dropoff_address must be an object")
    currency = _text(data, "currency", "data.order.currency").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise MalformedEvent("data.order.currency must be a three-letter ISO 4217 code")
    return IncomingOrder(
        external_id=_text(data, "external_id", "data.order.external_id"),
        vendor_id=_uuid(data, "vendor_id", "data.order.vendor_id"),
        checkout_id=_checkout_id(_text(data, "checkout_id", "data.order.checkout_id"), source),
        customer_email=email,
        customer_name=_optional_text(customer, "name", "data.order.customer.name"),
        currency=currency,
        items=tuple(_item(item, f"data.order.items[{n}]") for n, item in enumerate(items)),
        subtotal=_money(data, "subtotal", "data.order.subtotal"),
        delivery_fee=_money(data, "delivery_fee", "data.order.delivery_fee"),
        points_discount=_money(data, "points_discount", "data.order.points_discount"),
        total=_money(data, "total", "data.order.total"),
        driver_tip=_driver_tip(data),
        referral_session=_optional_text(data, "referral_session", "data.order.referral_session"),
        dropoff_address=dropoff,
        order_number=_order_number(data),
        points_hold=_optional_text(data, "points_hold", "data.order.points_hold"),
    )


def _driver_tip(data: dict) -> Decimal:
    """The customer's tip for the driver, optional (none: 0.00); outside ``total``."""
    if data.get("driver_tip") is None:
        return Decimal("0")
    tip = _money(data, "driver_tip", "data.order.driver_tip")
    if tip > MAX_DRIVER_TIP:
        raise MalformedEvent(f"data.order.driver_tip is above the largest tip, {MAX_DRIVER_TIP}")
    return tip


def _order_number(data: dict) -> str | None:
    """The storefront's own order number, optional: a string (``"#R-2044"``) or a whole number
    (a MedusaJS ``display_id``), kept as text."""
    value = data.get("order_number")
    where = "data.order.order_number"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    text = _optional_text({"order_number": value}, "order_number", where)
    if text is not None and len(text) > ORDER_NUMBER_LIMIT:
        raise MalformedEvent(f"{where} is longer than {ORDER_NUMBER_LIMIT} characters")
    return text


def _item(item: Any, where: str) -> LineItem:
    if not isinstance(item, dict):
        raise MalformedEvent(f"{where} must be an object")
    quantity, product_id, sku = _item_reference(item, where)
    return LineItem(
        title=_text(item, "title", f"{where}.title"),
        quantity=quantity,
        unit_price=_money(item, "unit_price", f"{where}.unit_price"),
        product_id=product_id,
        sku=sku,
    )


def _item_reference(item: dict, where: str) -> tuple[int, uuid.UUID | None, str | None]:
    """An item's ``quantity`` and its ``product_id`` or ``sku`` (order lines and refund lines)."""
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise MalformedEvent(f"{where}.quantity must be a whole number above zero")
    try:
        fit_integer(quantity, OrderItem.quantity)
    except UnsafeInput as error:
        raise MalformedEvent(f"{where}.quantity is {error}") from None
    product_id = (
        _uuid(item, "product_id", f"{where}.product_id") if item.get("product_id") else None
    )
    sku = _optional_text(item, "sku", f"{where}.sku")
    if product_id is None and sku is None:
        raise MalformedEvent(f"{where} needs a product_id or a sku")
    return quantity, product_id, sku


def _refund(data: dict) -> IncomingRefund:
    items = data.get("items")
    if items is not None and not isinstance(items, list):
        raise MalformedEvent("data.refund.items must be a list")
    named = tuple(
        _refund_item(item, f"data.refund.items[{n}]") for n, item in enumerate(items or ())
    )
    delivery = (
        _money(data, "delivery_amount", "data.refund.delivery_amount")
        if data.get("delivery_amount") is not None
        else None
    )
    amount = _money(data, "amount", "data.refund.amount")
    # Lines the points discount paid in full are refunded for 0.00; a refund naming nothing
    # returns some money.
    if amount <= 0 and not named:
        raise MalformedEvent("data.refund.amount must be above zero")
    return IncomingRefund(
        refund_id=_text(data, "id", "data.refund.id"),
        amount=amount,
        reason=_optional_text(data, "reason", "data.refund.reason"),
        items=named,
        delivery_amount=delivery,
    )


def _refund_item(item: Any, where: str) -> RefundItem:
    if not isinstance(item, dict):
        raise MalformedEvent(f"{where} must be an object")
    quantity, product_id, sku = _item_reference(item, where)
    return RefundItem(quantity=quantity, product_id=product_id, sku=sku)


def _object(parent: dict, key: str, where: str) -> dict:
    value = parent.get(key)
    if value is None:
        raise MalformedEvent(f"missing {where}")
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where} must be an object")
    return value


def _text(parent: dict, key: str, where: str) -> str:
    value = parent.get(key)
    if value is None:
        raise MalformedEvent(f"missing {where}")
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"{where} must be a non-empty string")
    if len(value) > TEXT_LIMIT:
        raise MalformedEvent(f"{where} is longer than {TEXT_LIMIT} characters")
    return value.strip()


def _optional_text(parent: dict, key: str, where: str) -> str | None:
    return None if parent.get(key) in (None, "") else _text(parent, key, where)


def _uuid(parent: dict, key: str, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(_text(parent, key, where))
    except ValueError:
        raise MalformedEvent(f"{where} must be a UUID") from None


def _checkout_id(value: str, source: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid5(CHECKOUT_NAMESPACE, f"{source}:{value}")


def _money(parent: dict, key: str, where: str) -> Decimal:
    """A decimal string ("12.50"), or a whole JSON number; never a float."""
    value = parent.get(key)
    if value is None:
        raise MalformedEvent(f"missing {where}")
    if isinstance(value, Decimal):
        raise MalformedEvent(f'{where} must be a decimal string such as "12.50", not a JSON number')
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**8:
        return Decimal(value)
    if isinstance(value, str) and MONEY_PATTERN.fullmatch(value):
        return Decimal(value)
    raise MalformedEvent(f'{where} must be a decimal string such as "12.50"')


# --- the endpoint -------------------------------------------------------------------------------


def read_body(limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes.

    Counted on the bytes actually read, so a chunked body (no Content-Length) or a wrong
    Content-Length cannot get past the limit; a declared length above it is refused unread.
    """
    if (request.content_length or 0) > limit:
        return None
    stream, chunks, size = request.stream, [], 0
    while size <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


def _error(status: int, reason: str):
    return jsonify(error=reason), status


def signed_body(limit: int):
    """The request's raw body, read up to ``limit`` bytes and its storefront signature checked:
    ``(raw, None)``, or ``(None, answer)`` with the 413 or 401 to send. Every endpoint signed
    with ``ORDER_WEBHOOK_SECRET`` starts here."""
    raw = read_body(limit)
    if raw is None:
        return None, _error(413, f"body larger than {limit} bytes")
    config = current_app.config
    try:
        verify_signature(
            request.headers.get(SIGNATURE_HEADER),
            raw,
            config["ORDER_WEBHOOK_SECRET"],
            config["ORDER_WEBHOOK_TOLERANCE_SECONDS"],
            now=time.time(),
        )
    except InvalidSignature as error:
        return None, _error(401, str(error))
    return raw, None


@bp.post("/orders")
@csrf.exempt
@reads_raw_body
def receive_order_event():
    raw, refused = signed_body(MAX_BODY_BYTES)
    if refused is not None:
        return refused
    try:
        event = parse_event(raw)
    except MalformedEvent as error:
        return _error(400, str(error))
    try:
        result = intake.apply_order_event(event)
        db.session.commit()
    except InvalidOrder as error:
        db.session.rollback()
        return _error(400, str(error))
    except OrderStateConflict as error:
        db.session.rollback()
        return _error(409, str(error))
    except IntegrityError as error:
        db.session.rollback()
        # A concurrent request won a race for the same unique row (a new customer's account):
        # nothing was applied, and the sender's retry will find the row.
        if isinstance(error.orig, pg_errors.UniqueViolation):
            return _error(409, "a concurrent event changed the same data; retry")
        raise
    return jsonify(status=result.status), 200
