"""Deliveries moved along their path for the tracking, vendor and admin board tests."""

from __future__ import annotations

import secrets
from datetime import timedelta

from portal.clock import utcnow
from portal.deliveries import states
from portal.extensions import db
from tests.deliveries.helpers import delivery_row, verified_driver

MAIN_PATH = (
    "created",
    "confirmed",
    "enroute_to_pickup",
    "arrived_at_pickup",
    "picked_up",
    "enroute_to_dropoff",
    "arrived_at_dropoff",
    "delivered",
)


def token() -> str:
    return secrets.token_urlsafe(32)


def move_to(delivery, status: str, *, driver=None, source: str = "driver"):
    """Along the main path to ``status``, one step a second from now (after the history's last
    row); the driver takes it at "confirmed" and is on the delivery."""
    start = MAIN_PATH.index(delivery.status)
    steps = MAIN_PATH[start + 1 : MAIN_PATH.index(status) + 1]
    begin = utcnow()
    for n, step in enumerate(steps, start=1):
        if step == "confirmed":
            driver = driver or verified_driver()
            delivery.driver_id = driver.id
            driver.status = "on_delivery"
        states.advance(delivery, step, source=source, at=begin + timedelta(seconds=n))
    db.session.flush()
    return delivery


def tracked(status: str = "created", *, driver=None, **fields):
    """A delivery with a tracking token, moved to ``status``."""
    fields.setdefault("tracking_token", token())
    delivery = delivery_row(**fields)
    if status != "created":
        move_to(delivery, status, driver=driver)
    return delivery
