"""The demo's drivers are paid: Dana Rivers (the demo driver) delivered two orders more than a
settle period ago, so their earnings (pay plus tip) are settled when the demo's payout run pays
them. Made before the day's deliveries (``seed_dispatch``), as Dana then holds an offer and gets
no other. Each step is the dispatch's and the driver's own (``dispatch._ready_order``/``_carry``).
"""

from __future__ import annotations

import random
from datetime import timedelta

from ..auth import services as accounts
from ..clock import utcnow
from ..deliveries import services as drivers
from ..deliveries.assignments import order_assignment
from ..extensions import db
from .dispatch import (
    OFFER_DRIVER,
    _carry,
    _near,
    _point_of,
    _ready_order,
    shops_and_customers,
)

# How long ago Dana delivered them: past DRIVER_EARNINGS_SETTLE_DAYS (7 by default).
SETTLED_DELIVERIES = (timedelta(days=12), timedelta(days=9))


def seed_settled_deliveries(rng: random.Random, *, domain: str) -> int:
    """Dana's older deliveries; how many were made."""
    user = accounts.find_user_by_email(f"{OFFER_DRIVER}@{domain}")
    dana = drivers.driver_for_user(user) if user else None
    shops, customers = shops_and_customers()
    if dana is None or not shops or not customers:
        return 0
    now = utcnow()
    for n, ago in enumerate(SETTLED_DELIVERIES):
        vendor = shops[-1 - n]
        # Dana waits at the shop's door: the nearest driver, offered the delivery.
        drivers.update_location(dana, *_near(rng, *_point_of(vendor.id), spread=0.0005))
        if dana.status == "offline":
            drivers.set_availability(dana, "available")
        order = _ready_order(rng, vendor, customers[-1 - n], now - ago)
        _carry(rng, order_assignment(order), "delivered", now - ago)
    db.session.flush()
    return len(SETTLED_DELIVERIES)
