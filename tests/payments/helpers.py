"""A two-shop checkout of pending orders, its payment through the local Stripe server, and the
server's own events delivered to the portal's platform endpoint."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from portal.catalog.services import create_product
from portal.extensions import db
from portal.orders.intake import customer_for_order
from portal.orders.models import Order
from portal.orders.services import LineItem, place_order
from portal.payments.intents import start_checkout_payment
from portal.payouts.gateway import gateway
from portal.payouts.stripe_local import signature_header
from tests.deliveries.doordash import secret_product
from tests.orders.helpers import established_shop

RETURN_URL = "http://127.0.0.1:9/checkout/done"


def two_shop_checkout(
    *, first=("30.00", 1), second=("10.00", 2), first_fee="5.00", second_fee="0.00", secret=True
):
    """Shop one sells ``first`` (unit price, quantity) of the obfuscated product (or a plain one)
    with delivery ``first_fee``; shop two ``second`` of a mug. Returns (checkout_id, orders)."""
    checkout_id = uuid.uuid4()
    customer = customer_for_order("payer@example.com", "Pat Payer")
    shops = [established_shop(), established_shop()]
    product = (
        secret_product(shops[0])
        if secret
        else create_product(shops[0], title="Garden Chair", price=Decimal(first[0]))
    )
    mug = create_product(shops[1], title="Ceramic Mug", price=Decimal(second[0]))
    orders = []
    for shop, item, (price, quantity), fee in (
        (shops[0], product, first, first_fee),
        (shops[1], mug, second, second_fee),
    ):
        orders.append(
            place_order(
                vendor_id=shop.id,
                customer_id=customer.id,
                checkout_id=checkout_id,
                items=[
                    LineItem(
                        title=item.title,
                        quantity=quantity,
                        unit_price=Decimal(price),
                        product_id=item.id,
                        sku=item.sku,
                    )
                ],
                delivery_fee=Decimal(fee),
            )
        )
    return checkout_id, orders


def pay(checkout_id, card: str = "pm_card_visa"):
    """The checkout's intent, confirmed with a Stripe test card (what the card page does)."""
    started = start_checkout_payment(checkout_id)
    return gateway().confirm_payment_intent(
        started.payment.payment_intent_id,
        payment_method=card,
        return_url=RETURN_URL,
        idempotency_key=f"test-confirm-{checkout_id}-{card}",
    )


def server_events(server, type_: str | None = None) -> list[dict[str, Any]]:
    server.control("/events/wait", {"timeout": 10})
    return [e for e in server.events() if type_ is None or e["type"] == type_]


def deliver(client, app, event: dict[str, Any]):
    """The local server's event as Stripe delivers it to the platform endpoint, signed."""
    body = json.dumps(event).encode()
    return client.post(
        "/webhooks/stripe",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(body, app.config["STRIPE_WEBHOOK_SECRET"]),
        },
    )


def fresh(order: Order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)
