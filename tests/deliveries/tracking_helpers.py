"""Deliveries moved along their path for the tracking, vendor and admin board tests."""

from __future__ import annotations

import secrets

from portal.deliveries import states
from portal.deliveries.tracking import MAIN_PATH
from portal.extensions import db
from tests.deliveries.helpers import delivery_row, verified_driver


def token() -> str:
    return secrets.token_urlsafe(32)


def move_to(delivery, status: str, *, driver=None, source: str = "driver"):
    """Along the main path to ``status``, each step at the clock's time (so after the history's
    last row); the driver takes it at "confirmed" and is on the delivery."""
    start = MAIN_PATH.index(delivery.status)
    for step in MAIN_PATH[start + 1 : MAIN_PATH.index(status) + 1]:
        if step == "confirmed":
            driver = driver or verified_driver()
            delivery.driver_id = driver.id
            driver.status = "on_delivery"
        states.advance(delivery, step, source=source)
    db.session.flush()
    return delivery


def tracked(status: str = "created", *, driver=None, **fields):
    """A delivery with a tracking token, moved to ``status``."""
    fields.setdefault("tracking_token", token())
    delivery = delivery_row(**fields)
    if status != "created":
        move_to(delivery, status, driver=driver)
    return delivery
