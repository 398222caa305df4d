"""The demo's loyalty points, through the points service and order intake, on the seed's clock.

Customers get points the way real ones do: every paid demo order earns points that wait for its
return window, settled day by day as the nightly job would (so tiers grow with the history and
the multiplier at each payment is the tier of that day). Around that:

* a goodwill credit more than a year ago for a few, expired by now (an ``expired`` row);
* the programme's launch bonus eleven months ago for everyone: what is left of it expires within
  the next weeks, so "expiring soon" shows (less for those who spent points: oldest go first);
* a weekly catering order from one customer, enough to reach gold, and a newcomer who joined
  last month and is still bronze;
* a few customers paying part of today's order with points (held, then redeemed at payment).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ..loyalty import points
from ..orders import services as orders

LAUNCH_BONUS = 300
LAUNCH_DAYS_AGO = 340  # the bonus expires POINTS_EXPIRY_MONTHS later: within the next month
GOODWILL_DAYS_AGO = 400
GOODWILL = {"Hugo Martin": 150, "Ana Lopez": 120, "Tess Walker": 200}
CATERING_CUSTOMER = "Grace Kim"
CATERING_SHOP = "Belmont Noodle Bar"
CATERING_AMOUNT = Decimal("420")
# Dollars off today's order. Ana spends little: some of her launch bonus is left to expire soon.
REDEEMERS = {"Ana Lopez": 2, "Ben Carter": 5, "Chloe Nguyen": 4, "Grace Kim": 8, "Maya Singh": 5}
NEWCOMER = "Uma Reyes"
NEWCOMER_JOINED_DAYS_AGO = 35
NEWCOMER_ORDER_DAYS_AGO = (34, 27, 4)
WELCOME_BONUS = 100


def earliest_day(today: date) -> date:
    """The first day the points history reaches back to (its ledger partitions must exist)."""
    return today - timedelta(days=GOODWILL_DAYS_AGO + 1)


def seed_points_history(admin, customers, now: datetime) -> None:
    """Before the orders: the old goodwill credits and the launch bonus, in time order."""
    by_name = {customer.full_name: customer for customer in customers}
    goodwill_at = now - timedelta(days=GOODWILL_DAYS_AGO)
    for name, amount in GOODWILL.items():
        points.adjust(
            by_name[name].id, amount, "Goodwill for a late order", actor=admin, at=goodwill_at
        )
    launch = now - timedelta(days=LAUNCH_DAYS_AGO)
    for customer in customers:
        points.adjust(
            customer.id, LAUNCH_BONUS, "Loyalty programme launch bonus", actor=admin, at=launch
        )


class DailyPoints:
    """Called at the end of each demo day, after its orders (so shops number orders in time
    order): the catering order, the newcomer, then the nightly settlement."""

    def __init__(self, rng: random.Random, shops, customers, now: datetime, *, admin, register):
        self.rng, self.now, self.shops, self.admin = rng, now, shops, admin
        self.register = register
        self.newcomer = None
        self.caterer = next(c for c in customers if c.full_name == CATERING_CUSTOMER)
        self.shop, self.menu = next((v, p) for v, p in shops if v.name == CATERING_SHOP)

    def __call__(self, day: date) -> None:
        self._cater(day)
        self._newcomer(day)
        end_of_day = datetime.combine(day, time(23, 59), tzinfo=UTC)
        if end_of_day <= self.now:
            points.settle_due(end_of_day)

    def _newcomer(self, day: date) -> None:
        days_ago = (self.now.date() - day).days
        evening = datetime.combine(day, time(21, 45), tzinfo=UTC)
        if days_ago == NEWCOMER_JOINED_DAYS_AGO:
            self.newcomer = self.register(NEWCOMER)
            points.adjust(
                self.newcomer.id, WELCOME_BONUS, "Welcome bonus", actor=self.admin, at=evening
            )
        if self.newcomer is None or days_ago not in NEWCOMER_ORDER_DAYS_AGO:
            return
        vendor, products = self.rng.choice(self.shops)
        order = paid_order(
            vendor,
            self.newcomer,
            self.rng.choice(products),
            self.rng.randint(1, 3),
            evening,
            delivery_fee=Decimal("4.99"),
        )
        if evening + timedelta(days=1) <= self.now:
            orders.complete_order(order, evening + timedelta(days=1))

    def _cater(self, day: date) -> None:
        evening = datetime.combine(day, time(21, 30), tzinfo=UTC)
        if day.weekday() == 4 and evening + timedelta(days=1) <= self.now:
            dish = self.rng.choice(self.menu)
            quantity = math.ceil(CATERING_AMOUNT / dish.price)
            order = paid_order(self.shop, self.caterer, dish, quantity, evening)
            orders.complete_order(order, evening + timedelta(hours=20))


def seed_points_today(rng: random.Random, shops, customers, now: datetime) -> None:
    """A few of today's orders paid partly with points; then tonight's job's expiry."""
    by_name = {customer.full_name: customer for customer in customers}
    for minutes, (name, dollars) in enumerate(REDEEMERS.items(), start=1):
        customer = by_name[name]
        spendable = points.summary(customer.id, now).balance
        if spendable < points.points_for_discount(Decimal(dollars)):
            continue
        vendor, products = rng.choice(shops)
        product = max(products, key=lambda p: p.price)
        quantity = max(1, math.ceil(Decimal("12") / product.price))
        placed_at = now - timedelta(minutes=2 + minutes)  # paid before the demo's now
        paid_order(vendor, customer, product, quantity, placed_at, points_discount=dollars)
    points.expire_due(now)


def paid_order(
    vendor,
    customer,
    product,
    quantity: int,
    placed_at: datetime,
    *,
    delivery_fee=Decimal("0"),
    points_discount: int = 0,
):
    """One line of ``product``, placed at ``placed_at`` and paid two minutes later; a
    ``points_discount`` (dollars) is paid with the customer's points."""
    order = orders.place_order(
        vendor_id=vendor.id,
        customer_id=customer.id,
        items=[
            orders.LineItem(
                product_id=product.id,
                sku=product.sku,
                title=product.title,
                quantity=quantity,
                unit_price=product.price,
            )
        ],
        delivery_fee=delivery_fee,
        points_discount=Decimal(points_discount),
        pay_with_points=points_discount > 0,
        dropoff_address=customer.default_address,
        placed_at=placed_at,
    )
    return orders.mark_paid(order, placed_at + timedelta(minutes=2))
