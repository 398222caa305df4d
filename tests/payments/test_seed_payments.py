"""The demo's card checkout: placed, paid through the local Stripe server, read back, once."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.catalog.services import create_product
from portal.extensions import db
from portal.orders.intake import customer_for_order
from portal.orders.models import Order
from portal.seed.payments import SHOPS, pay_demo_checkout
from tests.orders.helpers import established_shop


def test_the_demo_pays_one_two_shop_checkout_by_card_once(db_session, app_stripe):
    customer_for_order("ana@example.com", "Ana Lopez")
    for name in SHOPS:
        shop = established_shop()
        shop.name = name
        create_product(shop, title=f"{name} gift card", price=Decimal("25.00"))
    db.session.flush()

    payment = pay_demo_checkout()
    assert payment.status == "succeeded" and payment.amount == Decimal("59.00")
    orders = db.session.scalars(sa.select(Order).where(Order.checkout_id == payment.checkout_id))
    assert sorted(order.status for order in orders) == ["paid", "paid"]
    assert pay_demo_checkout() is None
    assert len(app_stripe.control("/payment_intents", method="GET")) == 1
