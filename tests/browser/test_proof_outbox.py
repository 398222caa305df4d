"""Proof of delivery from a phone with poor signal: the photo, the signature and the PIN go through
the driver's outbox (static/js/driver_outbox.js), so a request dropped on its way out is sent
again, and one whose answer is lost is replayed with the same Idempotency-Key: the proof is
stored once and the delivery delivered once."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app
from PIL import Image

from portal.deliveries.models import DeliveryAssignment, DeliveryStatusChange, DriverRequest
from portal.extensions import db
from tests.browser.conftest import PHONE, sign_in
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import tracked

pytestmark = pytest.mark.browser

PROOF = "**/driver/deliveries/*/proof"


def at_the_door(committed):
    driver = verified_driver()
    delivery = tracked(
        "arrived_at_dropoff", driver=driver, driver_pay=Decimal("5.00"), delivery_pin="4321"
    )
    committed.commit()
    return driver, delivery


def stored(delivery_id, driver_id):
    """(status, proof, delivered history rows, keys the driver used)."""
    db.session.expire_all()
    delivery = db.session.get(DeliveryAssignment, delivery_id)
    delivered = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DeliveryStatusChange)
        .where(
            DeliveryStatusChange.assignment_id == delivery_id,
            DeliveryStatusChange.to_status == "delivered",
        )
    )
    keys = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DriverRequest)
        .where(DriverRequest.driver_id == driver_id)
    )
    return delivery.status, delivery.proof_of_delivery or {}, delivered, keys


def lose_the_first(sent_keys, *, reach_the_server: bool):
    """A route handler: the first request is dropped (before the server, or its answer after)."""

    def handle(route):
        sent_keys.append(route.request.headers.get("idempotency-key"))
        if len(sent_keys) == 1:
            if reach_the_server:
                route.fetch()  # the server stores the proof...
            route.abort("connectionreset")  # ...and the phone never hears back
        else:
            route.continue_()

    return handle


def phone_at_the_door(live_server, committed, page_factory, *, reach_the_server: bool):
    """A driver at the door, signed in on a phone whose first proof request is dropped."""
    driver, delivery = at_the_door(committed)
    page = page_factory(PHONE)
    sign_in(page, live_server, driver.email, lands_on="/driver/")
    sent_keys: list[str] = []
    page.route(PROOF, lose_the_first(sent_keys, reach_the_server=reach_the_server))
    return driver, delivery, page, sent_keys


def test_a_photo_whose_answer_is_lost_is_stored_once(
    live_server, committed, page_factory, tmp_path
):
    photo = tmp_path / "door.jpg"
    Image.new("RGB", (2400, 1800), (180, 120, 60)).save(photo, "JPEG")
    driver, delivery, page, sent_keys = phone_at_the_door(
        live_server, committed, page_factory, reach_the_server=True
    )

    page.click("summary:has-text('Photo at the door')")
    page.set_input_files("#proof-photo-input", str(photo))
    page.click("#proof-photo button[type=submit]")
    page.wait_for_selector("#work-done")

    assert len(sent_keys) == 2 and sent_keys[0] == sent_keys[1]
    status, proof, delivered, keys = stored(delivery.id, driver.id)
    assert status == "delivered" and delivered == 1 and keys == 1
    assert proof["method"] == "photo"
    kept = os.path.join(current_app.config["PRIVATE_MEDIA_ROOT"], proof["photo"])
    with Image.open(kept) as image:
        # Scaled down on the phone to the server's limit, stored as WebP.
        assert image.format == "WEBP"
        assert max(image.size) == current_app.config["DELIVERY_PHOTO_MAX_PIXELS"]
    assert page.evaluate("localStorage.getItem('portal-driver-outbox')") == "[]"


def test_a_pin_dropped_on_its_way_out_is_sent_again(live_server, committed, page_factory):
    driver, delivery, page, sent_keys = phone_at_the_door(
        live_server, committed, page_factory, reach_the_server=False
    )

    page.click("summary:has-text('Customer\\'s PIN')")
    page.fill("#proof-pin-input", "4321")
    page.click("#proof-pin button[type=submit]")
    page.wait_for_selector("#work-done")

    assert len(sent_keys) == 2 and sent_keys[0] == sent_keys[1]
    status, proof, delivered, keys = stored(delivery.id, driver.id)
    assert status == "delivered" and delivered == 1 and keys == 1
    assert proof["method"] == "pin" and proof["pin_verified"] is True


def test_a_signature_whose_answer_is_lost_is_stored_once(live_server, committed, page_factory):
    driver, delivery, page, sent_keys = phone_at_the_door(
        live_server, committed, page_factory, reach_the_server=True
    )

    pad = page.locator("canvas[data-signature-pad]")
    pad.evaluate("element => element.scrollIntoView({block: 'center'})")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] / 3, steps=8)
    page.mouse.up()
    page.click("#proof-signature button[type=submit]")
    page.wait_for_selector("#work-done")

    assert len(sent_keys) == 2 and sent_keys[0] == sent_keys[1]
    status, proof, delivered, keys = stored(delivery.id, driver.id)
    assert status == "delivered" and delivered == 1 and keys == 1
    assert proof["method"] == "signature" and proof["signature"].endswith("-signature.png")
