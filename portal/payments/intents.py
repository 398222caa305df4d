"""One PaymentIntent per checkout (docs/payments.md, "The PaymentIntent").

``start_checkout_payment(checkout_id)`` asks Stripe for the intent of a checkout whose pending
orders (one per vendor, sharing the ``checkout_id``) are placed: the amount is the sum of their
totals, ``transfer_group`` names the checkout for the vendors' later transfers, and everything
that describes what was bought (``description``, ``metadata``, ``statement_descriptor_suffix``)
is made from each line's outside view for the payment processor (``portal/obfuscation``), so an
obfuscated product's real name, description, brand or category never reaches Stripe.

Services flush and never commit; the caller commits. Calling again for the same checkout (a
double click, a retry after a dropped connection) sends the same idempotency key, so Stripe
answers with the same intent, and the row is written once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import selectinload

from ..catalog.models import Product
from ..config import STRIPE_API
from ..extensions import db
from ..obfuscation.services import outside_line_name
from ..orders.models import Order, OrderItem
from ..payouts.gateway import PaymentIntent, gateway
from .models import CheckoutPayment

# Stripe's limits (docs: "Metadata", "Statement descriptors"): the smallest card charge in USD,
# a metadata value, the suffix after the account's prefix.
MINIMUM_CHARGE = Decimal("0.50")
METADATA_VALUE_LENGTH = 500
DESCRIPTION_LENGTH = 1000
SUFFIX_LENGTH = 22
SUFFIX_UNSAFE = re.compile(r"[^A-Za-z0-9 .,&-]+")


class PaymentError(ValueError):
    """A checkout that cannot be paid this way; the message says why, for the customer."""


@dataclass(frozen=True)
class StartedPayment:
    """The checkout's payment and what the card step needs: the intent's client secret (kept
    by Stripe, never stored by the portal)."""

    payment: CheckoutPayment
    client_secret: str


def transfer_group_of(checkout_id: uuid.UUID) -> str:
    return f"checkout-{checkout_id}"


def checkout_orders(checkout_id: uuid.UUID) -> list[Order]:
    """The checkout's orders, oldest first, with their lines and products (for outside views)."""
    return list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.checkout_id == checkout_id)
            .options(
                selectinload(Order.items)
                .selectinload(OrderItem.product)
                .options(
                    selectinload(Product.obfuscation),
                    selectinload(Product.brand),
                    selectinload(Product.category),
                )
            )
            .order_by(Order.created_at, Order.id)
        )
    )


@dataclass(frozen=True)
class StripeDetails:
    description: str
    metadata: dict[str, str]
    statement_descriptor_suffix: str | None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _suffix(name: str) -> str | None:
    cleaned = " ".join(SUFFIX_UNSAFE.sub(" ", name).split())[:SUFFIX_LENGTH].strip()
    return cleaned if re.search(r"[A-Za-z]", cleaned) else None


def stripe_details(checkout_id: uuid.UUID, orders: list[Order]) -> StripeDetails:
    """What Stripe is told of the checkout: only outside names of the lines (the payment
    processor's view), the checkout and its orders' ids. No description, brand or category of
    any product is sent, obfuscated or not."""
    lines = [line for order in orders for line in order.items]
    names = [(outside_line_name(line, "payments").name, line) for line in lines]
    items = ", ".join(f"{line.quantity} x {name}" for name, line in names)
    shops = len({order.vendor_id for order in orders})
    count = sum(line.quantity for line in lines)
    summary = f"{count} item{'s' * (count != 1)} from {shops} shop{'s' * (shops != 1)}"
    largest = max(names, key=lambda pair: pair[1].line_total, default=None)
    return StripeDetails(
        description=_clip(f"Marketplace order, {summary}: {items}", DESCRIPTION_LENGTH),
        metadata={
            "checkout_id": str(checkout_id),
            "order_ids": _clip(",".join(str(order.id) for order in orders), METADATA_VALUE_LENGTH),
            "items": _clip(items, METADATA_VALUE_LENGTH),
        },
        statement_descriptor_suffix=_suffix(largest[0]) if largest else None,
    )


def _payable_amount(orders: list[Order]) -> tuple[Decimal, str]:
    if not orders:
        raise PaymentError("There is no order in this checkout to pay for.")
    waiting = [order for order in orders if order.status != "pending"]
    if waiting:
        raise PaymentError(
            f"Order {waiting[0].label} is {waiting[0].status.replace('_', ' ')}, not waiting for "
            "payment."
        )
    currencies = {order.currency.lower() for order in orders}
    if len(currencies) != 1:
        raise PaymentError("A checkout is paid in one currency; its orders are in several.")
    amount = sum((order.total for order in orders), Decimal("0.00"))
    if amount < MINIMUM_CHARGE:
        raise PaymentError(
            f"A card payment is at least {MINIMUM_CHARGE}; this checkout comes to {amount}."
        )
    return amount, currencies.pop()


def payment_of_checkout(checkout_id: uuid.UUID, *, lock: bool = False) -> CheckoutPayment | None:
    query = sa.select(CheckoutPayment).where(CheckoutPayment.checkout_id == checkout_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def start_checkout_payment(
    checkout_id: uuid.UUID, *, receipt_email: str | None = None
) -> StartedPayment:
    """The checkout's PaymentIntent, made once (``PaymentError`` when it cannot be paid by
    card; the gateway's errors when Stripe did not answer or refused)."""
    existing = payment_of_checkout(checkout_id)
    if existing is not None:
        intent = gateway().retrieve_payment_intent(existing.payment_intent_id)
        return StartedPayment(existing, intent.client_secret or "")
    orders = checkout_orders(checkout_id)
    amount, currency = _payable_amount(orders)
    details = stripe_details(checkout_id, orders)
    intent = gateway().create_payment_intent(
        amount=amount,
        currency=currency,
        transfer_group=transfer_group_of(checkout_id),
        idempotency_key=f"portal-checkout-{checkout_id}",
        description=details.description,
        metadata=details.metadata,
        statement_descriptor_suffix=details.statement_descriptor_suffix,
        receipt_email=receipt_email,
    )
    _record(checkout_id, intent)
    return StartedPayment(payment_of_checkout(checkout_id), intent.client_secret or "")


def _record(checkout_id: uuid.UUID, intent: PaymentIntent) -> None:
    # A second request for the checkout at once got the same intent (same key): one row.
    db.session.execute(
        insert(CheckoutPayment)
        .values(
            checkout_id=checkout_id,
            payment_intent_id=intent.id,
            amount=intent.amount,
            currency=intent.currency.upper(),
            status=intent.status,
            transfer_group=intent.transfer_group or transfer_group_of(checkout_id),
        )
        .on_conflict_do_nothing(index_elements=["checkout_id"])
    )


def cancel_checkout_payment(checkout_id: uuid.UUID) -> PaymentIntent | None:
    """Cancel the checkout's intent (an abandoned checkout, an expired reservation); the
    ``payment_intent.canceled`` webhook records it. None when there is none to cancel."""
    payment = payment_of_checkout(checkout_id)
    if payment is None or payment.status in ("succeeded", "canceled"):
        return None
    return gateway().cancel_payment_intent(
        payment.payment_intent_id, idempotency_key=f"portal-checkout-cancel-{checkout_id}"
    )


def local_card_page(payment_intent_id: str, client_secret: str, return_url: str) -> str | None:
    """The local Stripe server's stand-in card page for the intent (tests, the demo); None when
    the portal talks to Stripe itself, where Stripe's Payment Element takes the card."""
    base = current_app.config["STRIPE_API_BASE"].rstrip("/")
    if base == STRIPE_API:
        return None
    query = urlencode({"client_secret": client_secret, "return_url": return_url})
    return f"{base}/pay/{payment_intent_id}?{query}"
