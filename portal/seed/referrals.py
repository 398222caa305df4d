"""The demo's referral traffic: visits of each shop's link over the past weeks, from several
sources and campaigns, a few by customers who then signed in, so their orders at that shop (placed
afterwards by the demo) are attributed and convert. Every visit goes through the referral
services the link itself uses (``record_visit``, ``tie_visitor``); its own generator, so the rest
of the demo is unchanged by it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ..referrals import services as referrals

#: (utm_source, utm_medium, utm_campaign, weight); None: the bare link.
SOURCES = (
    ("instagram", "social", "fall-menu", 30),
    ("newsletter", "email", "weekly", 20),
    ("facebook", "social", "fall-menu", 12),
    ("flyer", "print", "neighbourhood-qr", 10),
    ("google", "cpc", "brand", 8),
    (None, None, None, 20),
)


def seed_referral_visits(
    rng: random.Random, shops, customers, now: datetime, *, weeks: int = 8
) -> int:
    """Visits of every shop's link over ``weeks`` back from ``now``; about one in eight by a
    customer who signs in (their visits tied to them). Returns how many visits were recorded."""
    weights = [weight for *_, weight in SOURCES]
    recorded = 0
    for vendor, _products in shops:
        for _ in range(rng.randint(25, 90)):
            source, medium, campaign, _weight = rng.choices(SOURCES, weights)[0]
            at = now - timedelta(minutes=rng.randint(60, weeks * 7 * 24 * 60))
            visitor = f"demo-{rng.getrandbits(96):024x}"
            visit = referrals.record_visit(
                vendor.referral_code, visitor, referrals.Utm(source, medium, campaign), at=at
            )
            if visit is None:
                continue
            recorded += 1
            if rng.random() < 0.125:
                referrals.tie_visitor(visitor, rng.choice(customers).id)
    return recorded
