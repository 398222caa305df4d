"""The demo's checkout paid by card: one customer buys from two onboarded shops in one checkout,
through the payments service and the local Stripe server (docs/payments.md).

The portal is not serving while the seed runs, so the webhook that would mark the orders paid is
not heard: the seed reads the intent back (``refresh_checkout_payment``), which applies what
Stripe says as that webhook would.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import requests
import sqlalchemy as sa
from flask import current_app

from ..catalog.models import Product
from ..customers.models import Customer
from ..extensions import db
from ..orders.services import LineItem, place_order
from ..payments.events import refresh_checkout_payment
from ..payments.intents import start_checkout_payment
from ..payments.models import CheckoutPayment
from ..payouts.gateway import StripeGatewayError, gateway
from ..vendors.models import Vendor
from .payouts import ONBOARDED, LocalStripeMissing

SHOPS = ONBOARDED[:2]
DELIVERY_FEE = Decimal("4.50")


def pay_demo_checkout() -> CheckoutPayment | None:
    """The demo's card checkout, once; None when there is one already, or nothing to buy."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(CheckoutPayment)):
        return None
    base = current_app.config["STRIPE_API_BASE"]
    if "api.stripe.com" in base:
        raise LocalStripeMissing("the demo pays its checkout on the local Stripe server only")
    shops = db.session.scalars(
        sa.select(Vendor).where(Vendor.name.in_(SHOPS)).order_by(Vendor.name)
    )
    customer = db.session.scalar(sa.select(Customer).order_by(Customer.full_name).limit(1))
    checkout_id = uuid.uuid4()
    placed = 0
    for shop in shops:
        product = db.session.scalar(
            sa.select(Product).where(Product.vendor_id == shop.id).order_by(Product.title).limit(1)
        )
        if product is None or customer is None:
            continue
        place_order(
            vendor_id=shop.id,
            customer_id=customer.id,
            checkout_id=checkout_id,
            items=[LineItem(product.title, 1, product.price, product.id, product.sku)],
            delivery_fee=DELIVERY_FEE,
        )
        placed += 1
    if not placed:
        return None
    try:
        started = start_checkout_payment(checkout_id)
        gateway().confirm_payment_intent(
            started.payment.payment_intent_id,
            payment_method="pm_card_visa",
            return_url=current_app.config["PUBLIC_URL"].rstrip("/") + "/",
            idempotency_key=f"demo-confirm-{checkout_id}",
        )
        payment = refresh_checkout_payment(checkout_id)
    except (StripeGatewayError, requests.RequestException) as error:
        raise LocalStripeMissing(f"the local Stripe server at {base} did not answer") from error
    db.session.commit()
    return payment
