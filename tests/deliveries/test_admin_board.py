"""The admin's live board (deliveries under way, drivers online) and a delivery's page with its
reassign and cancel actions: what they change, what they queue, what they refuse, and who may."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import queues
from portal.clock import utcnow
from portal.deliveries import admin_actions, states
from portal.deliveries.models import DeliveryOffer, DeliveryStatusChange, Driver
from portal.extensions import db
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import move_to, tracked
from tests.factories import make_admin, make_customer, make_driver, make_vendor
from tests.orders.helpers import established_shop, paid_order

HTMX = {"HX-Request": "true"}
MAIL_JOB = "portal.mail.deliver"


@pytest.fixture
def admin(client, auth, db_session):
    user = make_admin()
    auth.login(user.email)
    return user


@pytest.fixture
def queue(app):
    queue = queues.get_queue("default", app)
    queue.empty()
    yield queue
    queue.empty()


def queued(queue) -> list[tuple[str, tuple]]:
    """The jobs queued, but the mails (the tracking link's, when a test confirms a delivery)."""
    return [(job.func_name, job.args) for job in queue.jobs if job.func_name != MAIL_JOB]


def offer(delivery, driver, outcome="pending"):
    row = DeliveryOffer(
        assignment_id=delivery.id,
        driver_id=driver.id,
        offered_at=utcnow(),
        expires_at=utcnow() + timedelta(seconds=60),
        outcome=outcome,
    )
    db.session.add(row)
    db.session.flush()
    return row


def reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def test_the_board_lists_deliveries_under_way_and_maps_drivers_online(client, admin):
    shop = established_shop()
    carrying_driver = verified_driver((45.52, -122.67), full_name="Ari Carrier")
    idle = verified_driver((45.50, -122.60), full_name="Bo Idle")
    verified_driver((45.51, -122.61), status="offline", full_name="Cy Offline")
    done = tracked("delivered", driver=carrying_driver, order=paid_order(shop))
    carrying = tracked("picked_up", driver=carrying_driver, order=paid_order(shop))
    waiting = tracked("created", order=paid_order(shop))

    text = client.get("/admin/deliveries/").get_data(as_text=True)
    assert f'id="board-{carrying.id}"' in text and f'id="board-{waiting.id}"' in text
    assert f'id="board-{done.id}"' not in text
    assert 'hx-trigger="every 10s"' in text  # the list polls itself
    assert "2 deliveries under way" in text and "2 drivers online" in text

    fragment = client.get("/admin/deliveries/", headers=HTMX).get_data(as_text=True)
    assert 'id="board-list"' in fragment and "<html" not in fragment

    data = client.get("/admin/deliveries/positions").get_json()
    by_id = {row["id"]: row for row in data["deliveries"]}
    assert set(by_id) == {str(carrying.id), str(waiting.id)}
    assert by_id[str(carrying.id)]["pickup"] == [45.5152, -122.6784]
    assert by_id[str(carrying.id)]["dropoff"] == [45.5231, -122.6765]
    assert by_id[str(carrying.id)]["driver"] == [45.52, -122.67]
    assert by_id[str(waiting.id)]["driver"] is None
    drivers = {row["id"]: row for row in data["drivers"]}
    assert set(drivers) == {str(carrying_driver.id), str(idle.id)}
    assert drivers[str(idle.id)] == {
        "id": str(idle.id),
        "label": "Bo · available",
        "status": "available",
        "position": [45.5, -122.6],
    }


def test_the_board_is_bounded(app, client, admin, monkeypatch):
    shop = established_shop()
    for _ in range(3):
        tracked("created", order=paid_order(shop))
    monkeypatch.setitem(app.config, "DELIVERY_BOARD_MAX_DELIVERIES", 2)
    text = client.get("/admin/deliveries/").get_data(as_text=True)
    assert "2+ deliveries under way (the oldest 2 shown)" in text
    assert len(client.get("/admin/deliveries/positions").get_json()["deliveries"]) == 2


def test_reassign_takes_the_delivery_back_before_pickup(client, admin, queue):
    driver = verified_driver(full_name="Dee Taken")
    delivery = tracked("enroute_to_pickup", driver=driver)
    other = verified_driver()
    pending = offer(delivery, other)

    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Reassign the delivery" in page and "Take this delivery back from Dee Taken" in page

    response = client.post(f"/admin/deliveries/{delivery.id}/reassign", headers=HTMX)
    assert response.status_code == 200
    assert "offered to other drivers" in response.headers["HX-Trigger"]
    delivery = reload(type(delivery), delivery.id)
    assert delivery.status == "created" and delivery.driver_id is None
    assert reload(Driver, driver.id).status == "available"
    assert reload(DeliveryOffer, pending.id).outcome == "withdrawn"
    last = db.session.scalar(
        sa.select(DeliveryStatusChange)
        .where(DeliveryStatusChange.assignment_id == delivery.id)
        .order_by(DeliveryStatusChange.at.desc())
        .limit(1)
    )
    assert (last.from_status, last.to_status, last.source, last.actor_id) == (
        "enroute_to_pickup",
        "created",
        "admin",
        admin.id,
    )
    assert queued(queue) == [(admin_actions.DISPATCH_JOB, (str(delivery.id),))]


@pytest.mark.parametrize("status", ["created", "picked_up", "delivered"])
def test_reassign_is_refused_outside_confirmed_to_pickup(client, admin, queue, status):
    delivery = tracked(status)
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Reassign the delivery" not in page
    response = client.post(f"/admin/deliveries/{delivery.id}/reassign", headers=HTMX)
    assert response.status_code == 409
    label = states.LABELS[status]
    assert f"A delivery that is “{label}” cannot be given to another driver" in (
        response.get_data(as_text=True)
    )
    assert reload(type(delivery), delivery.id).status == status
    assert queued(queue) == []


def test_a_providers_delivery_is_not_reassigned(client, admin, queue):
    delivery = tracked("confirmed", provider="doordash")
    response = client.post(f"/admin/deliveries/{delivery.id}/reassign", headers=HTMX)
    assert response.status_code == 409
    assert "outside provider" in response.get_data(as_text=True)
    assert queued(queue) == []


def test_cancel_needs_a_reason_and_frees_the_driver(client, admin, queue):
    driver = verified_driver()
    delivery = tracked("picked_up", driver=driver)
    blank = client.post(
        f"/admin/deliveries/{delivery.id}/cancel", data={"reason": "  "}, headers=HTMX
    )
    assert blank.status_code == 422
    assert "Say why the delivery is cancelled" in blank.get_data(as_text=True)
    assert reload(type(delivery), delivery.id).status == "picked_up"

    response = client.post(
        f"/admin/deliveries/{delivery.id}/cancel",
        data={"reason": "Customer   asked to cancel"},
        headers=HTMX,
    )
    assert response.status_code == 200
    delivery = reload(type(delivery), delivery.id)
    assert delivery.status == "cancelled"
    assert delivery.status_reason == "Customer asked to cancel"
    assert reload(Driver, driver.id).status == "available"
    assert queued(queue) == []  # our own driver: nothing to tell a provider


def test_cancelling_a_providers_delivery_cancels_it_there_too(client, admin, queue):
    delivery = tracked("confirmed", provider="doordash")
    response = client.post(
        f"/admin/deliveries/{delivery.id}/cancel", data={"reason": "Shop closed"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "DoorDash is asked to cancel it too" in response.headers["HX-Trigger"]
    assert queued(queue) == [(admin_actions.PROVIDER_CANCEL_JOB, (str(delivery.id),))]


@pytest.mark.parametrize("status", ["delivered", "enroute_to_return"])
def test_cancel_is_refused_with_the_machines_words(client, admin, queue, status):
    delivery = tracked("picked_up")
    if status == "delivered":
        move_to(delivery, "delivered")
    else:
        states.advance(delivery, "enroute_to_return", source="driver", note="Nobody home")
    response = client.post(
        f"/admin/deliveries/{delivery.id}/cancel", data={"reason": "Late"}, headers=HTMX
    )
    assert response.status_code == 409
    assert states.refusal(delivery, "cancelled") in response.get_data(as_text=True)
    assert reload(type(delivery), delivery.id).status == status


def test_an_action_without_javascript_redirects_with_the_outcome(client, admin, queue):
    delivery = tracked("confirmed")
    response = client.post(f"/admin/deliveries/{delivery.id}/reassign")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/deliveries/{delivery.id}")
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "offered to other drivers" in followed


def test_an_unknown_delivery_is_404(client, admin):
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/admin/deliveries/{missing}").status_code == 404
    assert client.post(f"/admin/deliveries/{missing}/reassign").status_code == 404
    assert (
        client.post(f"/admin/deliveries/{missing}/cancel", data={"reason": "x"}).status_code == 404
    )


@pytest.mark.parametrize("maker", [make_customer, make_driver, make_vendor])
def test_only_admins(client, auth, db_session, queue, maker):
    delivery = tracked("confirmed")
    auth.login(maker().email)
    for path in (
        "/admin/deliveries/",
        "/admin/deliveries/positions",
        f"/admin/deliveries/{delivery.id}",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/deliveries/{delivery.id}/reassign").status_code == 403
    assert (
        client.post(f"/admin/deliveries/{delivery.id}/cancel", data={"reason": "x"}).status_code
        == 403
    )
    assert reload(type(delivery), delivery.id).status == "confirmed"
    assert queued(queue) == []


def test_anonymous_users_are_sent_to_sign_in(client, db_session):
    delivery = tracked("confirmed")
    response = client.post(f"/admin/deliveries/{delivery.id}/reassign")
    assert response.status_code == 302
    assert reload(type(delivery), delivery.id).status == "confirmed"
    board = client.get("/admin/deliveries/")
    assert board.status_code == 302 and "/login" in board.headers["Location"]
