"""The driver's phone pages: the offer (pickup, dropoff, distance, pay, countdown), accept and
decline, the big button for the next step, the proof at the door (signature, photo, PIN) kept
with its time and position, the day's and week's figures; and nobody else's offers or deliveries
(another driver: 404; vendors and customers: 403)."""

from __future__ import annotations

import base64
import html
import io
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from portal.deliveries import dispatch, driving, tracking
from portal.deliveries.models import DeliveryOffer
from portal.extensions import db
from portal.geo import point
from portal.media import private_path
from tests.deliveries.dispatch_helpers import north, ready_order
from tests.deliveries.helpers import verified_driver
from tests.factories import make_customer, make_vendor

HX = {"HX-Request": "true"}


def png(blank: bool = False) -> bytes:
    image = Image.new("RGBA", (120, 50), (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(image).line((5, 40, 60, 5, 115, 45), fill=(0, 0, 0, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def image_format(path) -> str:
    with Image.open(path) as image:
        return image.format


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


@pytest.fixture
def offered(client, auth, db_session):
    """A signed-in driver holding an offer: (driver, delivery, offer)."""
    driver = verified_driver(north(0.2), full_name="Sam Courier")
    _order, delivery = ready_order(delivery_fee="4.99")
    offer = dispatch.dispatch(delivery.id).offer
    auth.login(driver.email)
    return driver, delivery, offer


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client, path, data=None, key=None, **kwargs):
    headers = dict(HX)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(path, data=data or {}, headers=headers, **kwargs)


def test_the_dashboard_shows_the_offer(client, offered):
    _driver, _delivery, offer = offered
    body = client.get("/driver/").get_data(as_text=True)
    assert 'id="offer"' in body and "New delivery" in body
    assert "$4.00" in body  # the pay
    assert "1005 W Burnside St" in body and "2 Home Ave" in body
    assert "0.72 mi, about 3 min" in body and "(0.20 mi from you)" in body
    assert 'data-countdown data-seconds-left="' in body
    assert f"/driver/offers/{offer.id}/accept" in body and "data-outbox" in body
    assert "hx-trigger" not in body.split('id="driver-work"')[1].split(">")[0]  # no polling


def test_waiting_for_an_offer_polls_itself(client, auth, db_session, app):
    driver = verified_driver(north(0.2))
    auth.login(driver.email)
    body = client.get("/driver/work", headers=HX).get_data(as_text=True)
    assert body.lstrip().startswith('<section id="driver-work"')
    assert f'hx-trigger="every {app.config["DRIVER_OFFER_POLL_SECONDS"]}s"' in body
    assert "Waiting for a delivery" in body


def test_accept_then_each_step_then_a_signature(client, offered, app):
    _driver, delivery, offer = offered
    accepted = post(client, f"/driver/offers/{offer.id}/accept", key="accept-0001-abcd")
    assert accepted.status_code == 200
    page = accepted.get_data(as_text=True)
    assert 'id="active-delivery"' in page and "Start to the shop" in page
    assert "geo:45.515200,-122.678400" in page  # to the shop first
    assert 'href="tel:+15550100"' in page and "Call" in page
    replay = post(client, f"/driver/offers/{offer.id}/accept", key="accept-0001-abcd")
    assert replay.headers["Idempotent-Replayed"] == "true"

    for n, (step, label_after) in enumerate(
        [
            ("enroute_to_pickup", "Arrived at the shop"),
            ("arrived_at_pickup", "Picked up"),
            ("picked_up", "Start to the customer"),
            ("enroute_to_dropoff", "Arrived at the customer"),
        ]
    ):
        answer = post(
            client, f"/driver/deliveries/{delivery.id}/step", {"to": step}, key=f"step-{n:04d}-ab"
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert label_after in answer.get_data(as_text=True)
    # A tap sent twice (a new key, the same step) changes nothing and is no error.
    again = post(client, f"/driver/deliveries/{delivery.id}/step", {"to": "enroute_to_dropoff"})
    assert again.status_code == 200
    at_door = post(client, f"/driver/deliveries/{delivery.id}/step", {"to": "arrived_at_dropoff"})
    door = at_door.get_data(as_text=True)
    assert "geo:45.523100,-122.676500" in door  # to the customer now
    assert 'capture="environment"' in door and "data-signature-pad" in door
    assert 'href="tel:+15035550123"' in door

    signed = post(
        client,
        f"/driver/deliveries/{delivery.id}/proof",
        {
            "method": "signature",
            "signature": data_url(png()),
            "latitude": "45.5231",
            "longitude": "-122.6765",
        },
        key="proof-0001-abcd",
    )
    assert signed.status_code == 200, signed.get_data(as_text=True)
    assert "Delivered order" in signed.get_data(as_text=True)
    db.session.expire_all()
    proof = delivery.proof_of_delivery
    assert delivery.status == "delivered"
    assert proof["method"] == "signature" and proof["at"]
    assert proof["position"] == {"latitude": 45.5231, "longitude": -122.6765, "source": "phone"}
    stored = Path(private_path(proof["signature"]))
    assert stored.is_file() and image_format(stored) == "PNG"
    assert proof["signature"].startswith(f"{delivery.vendor_id}/proof-of-delivery/")


def arrived(driver, delivery):
    for step in (
        "enroute_to_pickup",
        "arrived_at_pickup",
        "picked_up",
        "enroute_to_dropoff",
        "arrived_at_dropoff",
    ):
        driving.advance_delivery(driver, delivery.id, step)
    db.session.commit()  # as the phone's requests would (a refusal rolls back its own only)


def test_a_wrong_pin_is_refused_and_counted_then_the_right_one_delivers(client, offered):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    arrived(driver, delivery)
    wrong = "0000" if delivery.delivery_pin != "0000" else "1111"
    refused = post(
        client, f"/driver/deliveries/{delivery.id}/proof", {"method": "pin", "pin": wrong}
    )
    assert refused.status_code == 422
    assert "That PIN is not this delivery's. 4 tries left." in text(refused)
    db.session.expire_all()
    assert delivery.proof_of_delivery["pin_attempts"] == 1 and delivery.status != "delivered"
    right = post(
        client,
        f"/driver/deliveries/{delivery.id}/proof",
        {"method": "pin", "pin": tracking.delivery_pin(delivery)},
    )
    assert right.status_code == 200
    db.session.expire_all()
    assert delivery.status == "delivered" and delivery.proof_of_delivery["pin_verified"] is True
    # No position from the phone: the driver's last known one is kept.
    assert delivery.proof_of_delivery["position"]["source"] == "last_position"


def test_a_photo_from_the_camera(client, offered):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    arrived(driver, delivery)
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(jpeg, "JPEG")
    jpeg.seek(0)
    answer = post(
        client,
        f"/driver/deliveries/{delivery.id}/proof",
        {"method": "photo", "photo": (jpeg, "door.jpg")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    db.session.expire_all()
    assert image_format(private_path(delivery.proof_of_delivery["photo"])) == "WEBP"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"method": "signature", "signature": ""}, "Draw the customer's signature"),
        ({"method": "signature", "signature": data_url(png(blank=True))}, "Draw the customer"),
        ({"method": "signature", "signature": "data:image/png;base64,!!!"}, "did not come through"),
        ({"method": "photo"}, "Take a photo"),
        ({"method": "fax"}, "Choose a signature, a photo"),
    ],
)
def test_bad_proof_is_refused_with_a_message(client, offered, fields, message):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    arrived(driver, delivery)
    answer = post(client, f"/driver/deliveries/{delivery.id}/proof", fields)
    assert answer.status_code == 422 and message in text(answer)
    db.session.expire_all()
    assert delivery.status == "arrived_at_dropoff"


def test_proof_before_the_door_and_delivered_without_proof_are_refused(client, offered):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    db.session.commit()
    early = post(client, f"/driver/deliveries/{delivery.id}/proof", {"method": "pin", "pin": "1"})
    assert early.status_code == 422 and "Proof is taken at the door" in early.get_data(as_text=True)
    skip = post(client, f"/driver/deliveries/{delivery.id}/step", {"to": "picked_up"})
    assert skip.status_code == 409 and "cannot become “Picked up”" in text(skip)
    arrived(driver, delivery)
    bare = post(client, f"/driver/deliveries/{delivery.id}/step", {"to": "delivered"})
    assert bare.status_code == 409 and "proof of delivery" in bare.get_data(as_text=True)


def test_decline_sends_it_to_the_next_driver(client, offered):
    _driver, _delivery, offer = offered
    answer = post(client, f"/driver/offers/{offer.id}/decline", key="decline-001-abcd")
    assert answer.status_code == 200 and "Waiting for a delivery" in answer.get_data(as_text=True)
    assert db.session.get(DeliveryOffer, offer.id).outcome == "declined"
    again = post(client, f"/driver/offers/{offer.id}/accept")
    assert again.status_code == 409 and "You declined this delivery." in again.get_data(
        as_text=True
    )


def test_the_dashboard_shows_todays_and_this_weeks_earnings_and_the_rating(client, offered):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    arrived(driver, delivery)
    delivery.driver_tip = Decimal("3.00")
    driving.prove_delivery(driver, delivery.id, "pin", pin=delivery.delivery_pin)
    tracking.rate_delivery(delivery, stars=4)
    db.session.expire_all()  # another request, as the customer's rating is
    body = client.get("/driver/").get_data(as_text=True)
    summary = body.split('id="driver-summary"')[1]
    assert "$7.00" in summary  # pay 4.00 plus the 3.00 tip, today and this week
    assert summary.count("1 delivery") == 2 and "$3.00 tips" in summary
    assert "4.00 ★" in summary and "1 rating" in summary


# --- only their own ------------------------------------------------------------------------------


def test_another_driver_gets_404_for_every_route(client, auth, offered):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    other = verified_driver(north(3))
    db.session.commit()
    auth.logout()
    auth.login(other.email)
    assert client.get(f"/driver/deliveries/{delivery.id}").status_code == 404
    assert (
        post(
            client, f"/driver/deliveries/{delivery.id}/step", {"to": "enroute_to_pickup"}
        ).status_code
        == 404
    )
    assert (
        post(client, f"/driver/deliveries/{delivery.id}/proof", {"method": "pin"}).status_code
        == 404
    )
    assert post(client, f"/driver/offers/{offer.id}/accept").status_code == 404
    assert post(client, f"/driver/offers/{offer.id}/decline").status_code == 404
    assert client.get(f"/driver/deliveries/{uuid.uuid4()}").status_code == 404
    body = client.get("/driver/").get_data(as_text=True)
    assert str(delivery.id) not in body and str(offer.id) not in body
    db.session.expire_all()
    assert delivery.status == "confirmed" and delivery.driver_id == driver.id


def test_the_own_delivery_page_says_what_happened(client, offered):
    driver, delivery, offer = offered
    driving.accept_offer(driver, offer.id)
    page = client.get(f"/driver/deliveries/{delivery.id}")
    assert page.status_code == 200 and "Continue this delivery" in page.get_data(as_text=True)


@pytest.mark.parametrize("maker", [make_vendor, make_customer])
def test_vendors_and_customers_are_refused(client, auth, offered, maker):
    _driver, delivery, offer = offered
    auth.logout()
    auth.login(maker().email)
    assert client.get("/driver/work").status_code == 403
    assert client.get(f"/driver/deliveries/{delivery.id}").status_code == 403
    assert post(client, f"/driver/offers/{offer.id}/accept").status_code == 403


def test_positions_are_points(db_session):
    assert driving.parse_position("45.5", "-122.6") == (45.5, -122.6)
    assert driving.parse_position("95", "0") is None and driving.parse_position("", "") is None
    assert point(45.5, -122.6).srid == 4326


def test_every_status_has_the_drivers_words():
    from portal.deliveries import states

    assert set(driving.DRIVER_LABELS) == set(states.TRANSITIONS)


def test_going_offline_hands_the_offer_back_to_the_dispatch(client, offered, app):
    from portal import queues
    from portal.deliveries.dispatch import DISPATCH_JOB

    _driver, delivery, offer = offered
    db.session.commit()
    queue = queues.get_queue("default", app)
    queue.empty()
    answer = client.post("/driver/availability", data={"status": "offline"}, headers=HX)
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.get(DeliveryOffer, offer.id).outcome == "withdrawn"
    assert [(j.func_name, j.args) for j in queue.jobs if j.func_name == DISPATCH_JOB] == [
        (DISPATCH_JOB, (str(delivery.id),))
    ]
    assert "You are offline" in client.get("/driver/").get_data(as_text=True)
