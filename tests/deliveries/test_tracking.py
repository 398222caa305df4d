"""The customer's tracking link: opened by its token alone, showing the delivery and nothing else
of the customer, expiring after the delivery ends, polled until then; the rating once delivered,
and the driver's average; the mailed link and the links on the customer's and the shop's pages."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from portal.clock import utcnow
from portal.deliveries import states, tracking
from portal.deliveries.models import DeliveryAssignment, DeliveryStatusChange
from portal.deliveries.models_tracking import DeliveryRating
from portal.extensions import db
from portal.vendors.services import vendor_for_user
from tests.deliveries.helpers import delivery_row, verified_driver
from tests.deliveries.tracking_helpers import move_to, token, tracked
from tests.factories import make_customer, make_vendor
from tests.mailbox import body, mailbox  # noqa: F401  (the fixture)
from tests.orders.helpers import established_shop, paid_order

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(db_session):
    vendor = established_shop()
    vendor.name = "Tracy's Tea Room"
    db.session.flush()
    return vendor


def page(client, delivery, suffix=""):
    return client.get(f"/track/{delivery.tracking_token}{suffix}")


def test_the_page_opens_by_its_token_alone_and_shows_nothing_else_of_the_customer(client, shop):
    driver = verified_driver(full_name="Robin Quillfeather")
    order = paid_order(shop, email="casey.private@example.com", customer_name="Casey Private")
    delivery = tracked("enroute_to_dropoff", driver=driver, order=order, eta_minutes=14)

    response = page(client, delivery)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tracy&#39;s Tea Room" in text or "Tracy's Tea Room" in text
    assert "Robin is bringing your order" in text
    assert "Quillfeather" not in text  # the first name only
    for private in ("Casey", "casey.private@example.com", "2 Home Ave", "1 Main St", "555 0199"):
        assert private not in text
    assert "Expected around" in text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


# A fixed well-formed token nobody holds (a random one would differ between xdist workers).
@pytest.mark.parametrize(
    "wrong", ["not-a-token", "x" * 65, "nHYyu-2xyXUi3zds2-aqxld5ZMrhyfzCx3ewm8PUe6M"]
)
def test_an_unknown_token_finds_nothing(client, db_session, wrong):
    delivery_row(tracking_token=token())
    response = client.get(f"/track/{wrong}")
    assert response.status_code == 404
    assert "No such tracking link" in response.get_data(as_text=True)


def test_a_delivery_without_a_token_has_no_link(client, db_session):
    delivery = delivery_row()
    assert delivery.tracking_token is None
    assert tracking.tracking_path(delivery) is None
    assert client.get("/track/None").status_code == 404


def test_the_timeline_shows_each_step_taken_and_the_steps_ahead(client, shop):
    delivery = tracked("arrived_at_pickup", order=paid_order(shop))
    text = page(client, delivery, "/status").get_data(as_text=True)
    labels = [
        "Looking for a driver",
        "Driver assigned",
        "On the way to the shop",
        "At the shop",
        "Picked up",
        "On the way to you",
        "Arrived",
        "Delivered",
    ]
    positions = [text.index(f"<strong>{label}</strong>") for label in labels]
    assert positions == sorted(positions)
    timeline = text[text.index('id="tracking-timeline"') :]
    assert timeline.count('class="done') == 4 and timeline.count('class="todo') == 4
    assert 'aria-current="step"' in timeline


def test_a_reassigned_delivery_shows_its_way_back_to_looking(client, shop):
    delivery = tracked("confirmed", order=paid_order(shop))
    states.reopen(delivery, source="admin")
    text = page(client, delivery, "/status").get_data(as_text=True)
    # Taken: created, confirmed, created again; ahead: the main path after "created".
    assert text.count("<strong>Looking for a driver</strong>") == 2
    assert text.count("<strong>Driver assigned</strong>") == 2


@pytest.mark.parametrize("end", ["delivered", "cancelled"])
def test_the_link_expires_the_configured_hours_after_the_end(app, client, shop, end):
    delivery = tracked("enroute_to_pickup", order=paid_order(shop))
    if end == "delivered":
        move_to(delivery, "delivered")
    else:
        states.advance(delivery, "cancelled", source="admin", note="Shop closed early")
    hours = app.config["TRACKING_LINK_HOURS_AFTER_END"]
    ended = db.session.scalar(
        sa.select(DeliveryStatusChange.at).where(
            DeliveryStatusChange.assignment_id == delivery.id,
            DeliveryStatusChange.to_status == end,
        )
    )

    with freeze_time(ended + timedelta(hours=hours) - timedelta(minutes=1)):
        assert page(client, delivery).status_code == 200
    with freeze_time(ended + timedelta(hours=hours, minutes=1)):
        response = page(client, delivery)
        assert response.status_code == 410
        assert "This link has expired" in response.get_data(as_text=True)
        fragment = client.get(f"/track/{delivery.tracking_token}/status", headers=HTMX)
        assert fragment.status_code == 410
        text = fragment.get_data(as_text=True)
        assert 'id="tracking-status"' in text and "hx-trigger" not in text
        assert "<html" not in text


def test_a_delivery_under_way_does_not_expire(client, shop):
    delivery = tracked("picked_up", order=paid_order(shop))
    with freeze_time(utcnow() + timedelta(days=30)):
        assert page(client, delivery).status_code == 200


def test_the_fragment_polls_until_the_delivery_ends(app, client, shop):
    delivery = tracked("picked_up", order=paid_order(shop))
    every = f'hx-trigger="every {app.config["TRACKING_POLL_SECONDS"]}s"'
    under_way = page(client, delivery, "/status").get_data(as_text=True)
    assert every in under_way and f'hx-get="/track/{delivery.tracking_token}/status"' in under_way

    move_to(delivery, "delivered")
    ended = page(client, delivery, "/status").get_data(as_text=True)
    assert 'data-status="delivered"' in ended
    assert "hx-trigger" not in ended.split('id="tracking-rating"')[0]
    assert "hx-get" not in ended


def test_the_pin_shows_until_delivered(client, shop):
    delivery = tracked(
        "enroute_to_dropoff", order=paid_order(shop), proof_of_delivery={"pin": "4821"}
    )
    text = page(client, delivery).get_data(as_text=True)
    assert "Give this PIN to your driver" in text and ">4821<" in text
    move_to(delivery, "delivered")
    delivery.proof_of_delivery = {"pin": "4821", "method": "pin"}
    db.session.flush()
    text = page(client, delivery).get_data(as_text=True)
    assert "Give this PIN" not in text and "4821" not in text


def test_the_driver_position_is_shown_only_while_they_carry_the_order(client, shop):
    driver = verified_driver((45.52, -122.68), status="available")
    waiting = tracked("created", order=paid_order(shop))
    assert "data-driver-lat" not in page(client, waiting, "/status").get_data(as_text=True)

    carrying = tracked("picked_up", driver=driver, order=paid_order(shop))
    text = page(client, carrying, "/status").get_data(as_text=True)
    assert 'data-driver-lat="45.52"' in text and 'data-driver-lon="-122.68"' in text
    assert 'data-shop-lat="45.5152"' in text  # the shop's pickup point

    move_to(carrying, "delivered")
    assert "data-driver-lat" not in page(client, carrying, "/status").get_data(as_text=True)


def test_a_provider_delivery_reads_the_position_its_provider_registered(client, shop):
    delivery = tracked("picked_up", order=paid_order(shop))
    delivery.provider, delivery.driver_id = "walkietalkie", None
    db.session.flush()
    assert "data-driver-lat" not in page(client, delivery, "/status").get_data(as_text=True)

    # The shape of providers.services.ProviderPosition: a position and the courier's name.
    courier = SimpleNamespace(latitude=45.5, longitude=-122.6, driver_name="Jo Dasher")
    tracking.position_source("walkietalkie")(lambda a: courier)
    try:
        text = page(client, delivery, "/status").get_data(as_text=True)
    finally:
        tracking._POSITION_SOURCES.pop("walkietalkie")
    assert 'data-driver-lat="45.5"' in text
    assert "Jo is bringing your order" in text and "Dasher" not in text
    tracking._POSITION_SOURCES["walkietalkie"] = lambda a: None
    try:
        text = page(client, delivery, "/status").get_data(as_text=True)
    finally:
        tracking._POSITION_SOURCES.pop("walkietalkie")
    assert "A Walkietalkie courier brings your order" in text


def rate(client, delivery, stars, comment="", htmx=True):
    return client.post(
        f"/track/{delivery.tracking_token}/rating",
        data={"stars": stars, "comment": comment},
        headers=HTMX if htmx else {},
    )


def test_a_delivered_delivery_is_rated_once_and_the_driver_gets_the_average(client, shop):
    driver = verified_driver()
    deliveries = [tracked("delivered", driver=driver, order=paid_order(shop)) for _ in range(3)]
    assert "Rate the delivery" in page(client, deliveries[0]).get_data(as_text=True)

    for delivery, stars in zip(deliveries, (5, 4, 4), strict=True):
        answer = rate(client, delivery, stars, "Quick and kind")
        assert answer.status_code == 200
        assert f"You gave this delivery {stars} stars" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert driver.rating == Decimal("4.33")  # (5 + 4 + 4) / 3 = 4.333…

    again = rate(client, deliveries[0], 1)
    assert again.status_code == 422
    assert "rated already" in again.get_data(as_text=True)
    db.session.expire_all()
    assert driver.rating == Decimal("4.33")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryRating)) == 3
    rating = db.session.scalar(
        sa.select(DeliveryRating).where(DeliveryRating.assignment_id == deliveries[0].id)
    )
    assert (rating.stars, rating.comment, rating.driver_id) == (5, "Quick and kind", driver.id)


def test_the_average_rounds_half_up_to_the_cent(client, shop):
    driver = verified_driver()
    stars = (5, 5, 5, 4, 4, 4, 4, 4)  # 35 / 8 = 4.375
    for n in stars:
        rate(client, tracked("delivered", driver=driver, order=paid_order(shop)), n)
    db.session.expire_all()
    assert driver.rating == Decimal("4.38")


def test_a_rating_before_delivery_or_out_of_range_is_refused(client, shop):
    under_way = tracked("enroute_to_dropoff", order=paid_order(shop))
    assert "Rate the delivery" not in page(client, under_way).get_data(as_text=True)
    refused = rate(client, under_way, 5)
    assert refused.status_code == 422 and "once it is delivered" in refused.get_data(as_text=True)

    delivered = tracked("delivered", order=paid_order(shop))
    for wrong in ("0", "6", "five", ""):
        answer = rate(client, delivered, wrong)
        assert answer.status_code == 422
        assert "Choose from 1 to 5 stars." in answer.get_data(as_text=True)
    long = rate(client, delivered, 3, "x" * 501)
    assert long.status_code == 422 and "at most 500 characters" in long.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryRating)) == 0


def test_a_rating_without_javascript_goes_back_to_the_page(client, shop):
    delivered = tracked("delivered", order=paid_order(shop))
    answer = rate(client, delivered, 4, htmx=False)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/track/{delivered.tracking_token}")
    assert "You gave this delivery 4 stars" in page(client, delivered).get_data(as_text=True)


def test_a_rating_needs_the_csrf_token(client, shop):
    delivered = tracked("delivered", order=paid_order(shop))
    answer = client.post(f"/track/{delivered.tracking_token}/rating", data={"stars": 5}, csrf=False)
    assert answer.status_code == 400
    assert tracking.rating_of(delivered) is None


def test_the_link_is_mailed_to_the_customer_when_a_driver_first_accepts(
    app,
    client,
    shop,
    mailbox,  # noqa: F811  (the fixture imported above)
):
    order = paid_order(shop, email="follow.me@example.com")
    delivery = tracked("created", order=order)
    db.session.commit()
    assert mailbox.to("follow.me@example.com") == []

    move_to(delivery, "confirmed")
    db.session.commit()
    message = mailbox.last_to("follow.me@example.com")
    assert message["Subject"] == f"Your order #{order.number} from Tracy's Tea Room is on its way"
    link = app.config["PUBLIC_URL"].rstrip("/") + f"/track/{delivery.tracking_token}"
    assert link in body(message)

    # Reassigned and confirmed again: the customer has the link already.
    states.reopen(delivery, source="admin")
    move_to(delivery, "confirmed")
    db.session.commit()
    assert len(mailbox.to("follow.me@example.com")) == 1


def test_the_customer_sees_the_links_of_their_own_orders_only(app, client, auth, shop, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKING_LINK_HOURS_AFTER_END", 1)
    me = make_customer(email="me@example.com")
    mine = tracked("picked_up", order=paid_order(shop, email="me@example.com"))
    theirs = tracked("picked_up", order=paid_order(shop, email="someone.else@example.com"))
    ended = tracked("delivered", order=paid_order(shop, email="me@example.com"))
    auth.login(me.email)
    text = client.get("/account/").get_data(as_text=True)
    assert f"/track/{mine.tracking_token}" in text and "Track the delivery" in text
    assert f"/track/{theirs.tracking_token}" not in text
    assert f"/track/{ended.tracking_token}" in text  # until it expires

    with freeze_time(utcnow() + timedelta(hours=2)):
        later = client.get("/account/").get_data(as_text=True)
    assert f"/track/{ended.tracking_token}" not in later
    assert f"/track/{mine.tracking_token}" in later


def test_the_shops_order_page_shows_its_delivery_and_link(client, auth, db_session):
    owner = make_vendor(shop_name="Linked Shop")
    vendor = vendor_for_user(owner)
    order = paid_order(vendor)
    auth.login(owner.email)
    assert "Not dispatched" in client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)

    delivery = tracked("enroute_to_pickup", order=order)
    text = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "On the way to the shop" in text
    assert f'href="/track/{delivery.tracking_token}"' in text

    states.advance(delivery, "cancelled", source="admin", note="Driver's bike broke")
    text = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert "Cancelled" in text and "Reason: Driver&#39;s bike broke" in text


def test_a_delivery_lookup_takes_the_latest_per_order(db_session, shop):
    order = paid_order(shop)
    first = tracked("confirmed", order=order)
    states.advance(first, "cancelled", source="admin", note="x")
    second = tracked("created", order=order)
    second.created_at = first.created_at + timedelta(seconds=5)
    db.session.flush()
    found = tracking.order_delivery(order)
    assert found.assignment.id == second.id and found.label == "Looking for a driver"
    assert db.session.get(DeliveryAssignment, first.id).status == "cancelled"
