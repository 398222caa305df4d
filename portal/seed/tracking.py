"""The demo's delivery ratings: most delivered deliveries rated by their customer from the
tracking page, mostly well, some with a comment; each through ``tracking.rate_delivery``, so the
drivers' ratings are the averages the portal itself keeps. A second run rates nothing twice."""

from __future__ import annotations

import random

import sqlalchemy as sa

from ..deliveries import tracking
from ..deliveries.models import DeliveryAssignment
from ..deliveries.models_tracking import DeliveryRating
from ..extensions import db

STARS = (5, 4, 3, 2, 1)
STAR_WEIGHTS = (60, 24, 9, 4, 3)
COMMENTS = {
    5: ("Fast and friendly, thank you!", "Right on time.", "Left it exactly where I asked."),
    4: ("Good, a few minutes late.", "All fine."),
    3: ("Took a while to find the door.", "OK."),
    2: ("Much later than the estimate.",),
    1: ("The bag was torn.",),
}


def seed_tracking(rng: random.Random, *, share: float = 0.75, comment_share: float = 0.4) -> int:
    """Rate about ``share`` of the delivered deliveries that have no rating yet; returns how
    many were rated."""
    unrated = db.session.scalars(
        sa.select(DeliveryAssignment)
        .where(
            DeliveryAssignment.status == "delivered",
            ~sa.exists().where(DeliveryRating.assignment_id == DeliveryAssignment.id),
        )
        .order_by(DeliveryAssignment.created_at, DeliveryAssignment.id)
    ).all()
    rated = 0
    for assignment in unrated:
        if rng.random() >= share:
            continue
        stars = rng.choices(STARS, weights=STAR_WEIGHTS)[0]
        comment = rng.choice(COMMENTS[stars]) if rng.random() < comment_share else None
        tracking.rate_delivery(assignment, stars=stars, comment=comment)
        rated += 1
    db.session.flush()
    return rated
