"""The signed points-hold API of outside storefronts, and ``order.placed`` naming a hold."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from portal.extensions import db
from portal.loyalty import points
from portal.orders.intake import apply_order_event
from portal.orders.services import InvalidOrder
from portal.orders.webhooks import parse_event, signature_header
from tests.database import empty_all_tables
from tests.loyalty.helpers import admin, customer, moment, rows
from tests.orders.helpers import established_shop, follow_up, placed


@pytest.fixture
def world(app):
    """Committed for real: the endpoint commits, and rolls back what it refuses."""
    with app.app_context():
        yield db.session
    with app.app_context():
        empty_all_tables()


@pytest.fixture
def client(app, world):
    return app.test_client()


@pytest.fixture
def buyer(world):
    person = customer()
    points.adjust(person.id, 1000, "credit", actor=admin(), at=moment(-1))
    world.commit()
    return person


def send(client, app, path, body, *, secret=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    header = signature_header(secret or app.config["ORDER_WEBHOOK_SECRET"], data)
    response = client.post(
        f"/webhooks/points/{path}",
        data=data,
        headers={"Content-Type": "application/json", "Portal-Signature": header},
        csrf=False,
    )
    return response.status_code, response.get_json()


def hold_body(buyer, points_=600, request_id="hold-1"):
    return {"id": request_id, "customer_email": buyer.user.email, "points": points_}


def test_a_storefront_holds_points_and_a_retry_finds_the_same_hold(client, app, buyer):
    status, answer = send(client, app, "holds", hold_body(buyer))
    assert status == 201
    assert (answer["points"], answer["value"]) == (600, "6.00")
    assert answer["hold"].startswith("ph_")
    assert points.held_points(buyer.id) == 600
    again, repeat = send(client, app, "holds", hold_body(buyer))
    assert (again, repeat["hold"]) == (200, answer["hold"])
    assert points.held_points(buyer.id) == 600


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"points": 1001}, 409, "1000 are free"),
        ({"points": 0}, 400, "points must be a whole number above zero"),
        ({"points": "5"}, 400, "points must be a whole number above zero"),
        ({"points": 2**40}, 400, "points too large"),
        ({"customer_email": "nobody@example.com"}, 404, "no customer has this email"),
        ({"id": ""}, 400, "id must be a non-empty string"),
    ],
)
def test_refusals_say_why(client, app, buyer, change, status, reason):
    got, answer = send(client, app, "holds", {**hold_body(buyer), **change})
    assert got == status
    assert reason in answer["error"]
    assert points.held_points(buyer.id) == 0


def test_unsigned_or_wrongly_signed_requests_are_401(client, app, buyer):
    got, answer = send(client, app, "holds", hold_body(buyer), secret="not-the-secret")
    assert (got, answer["error"]) == (401, "signature does not match")
    response = client.post("/webhooks/points/holds", json=hold_body(buyer), csrf=False)
    assert response.status_code == 401
    assert points.held_points(buyer.id) == 0


def test_the_same_id_for_another_amount_is_a_conflict(client, app, buyer):
    send(client, app, "holds", hold_body(buyer))
    got, answer = send(client, app, "holds", hold_body(buyer, points_=100))
    assert got == 409 and "another customer or amount" in answer["error"]


def test_release_by_the_same_api(client, app, buyer):
    _, answer = send(client, app, "holds", hold_body(buyer))
    got, released = send(client, app, "holds/release", {"hold": answer["hold"]})
    assert (got, released["points"]) == (200, 600)
    assert points.held_points(buyer.id) == 0
    got, again = send(client, app, "holds/release", {"hold": answer["hold"]})
    assert got == 404 and "no points hold" in again["error"]


def _placed_with_hold(vendor, buyer, reference, discount="6.00"):
    event = placed(vendor, email=buyer.user.email, items=[("30.00", 1)], points_discount=discount)
    return dataclasses.replace(event, order=dataclasses.replace(event.order, points_hold=reference))


def test_an_order_naming_the_hold_redeems_it_at_payment(client, app, world, buyer):
    vendor = established_shop()
    _, answer = send(client, app, "holds", hold_body(buyer))
    event = _placed_with_hold(vendor, buyer, answer["hold"])
    order = apply_order_event(event).order
    world.commit()
    assert points.order_hold(order).reference == answer["hold"]
    got, refused = send(client, app, "holds/release", {"hold": answer["hold"]})
    assert got == 409 and "cancel the order" in refused["error"]
    apply_order_event(follow_up(event.external_id, "order.paid"))
    [redeemed] = rows(buyer, "redeemed")
    assert (redeemed.amount, redeemed.order_id) == (-600, order.id)
    assert points.held_points(buyer.id) == 0


def test_an_order_naming_a_hold_must_match_its_value(client, app, buyer):
    vendor = established_shop()
    _, answer = send(client, app, "holds", hold_body(buyer))
    with pytest.raises(InvalidOrder, match=r"worth 6\.00; the order's points_discount is 5\.00"):
        apply_order_event(_placed_with_hold(vendor, buyer, answer["hold"], discount="5.00"))
    with pytest.raises(InvalidOrder, match="no points hold ph_nope"):
        apply_order_event(_placed_with_hold(vendor, buyer, "ph_nope"))


def test_a_points_discount_without_a_hold_stays_the_marketplaces(client, app, buyer):
    vendor = established_shop()
    event = placed(vendor, email=buyer.user.email, items=[("30.00", 1)], points_discount="6.00")
    apply_order_event(event)
    apply_order_event(follow_up(event.external_id, "order.paid"))
    assert rows(buyer, "redeemed") == []
    assert points.balance_row(buyer.id).current_balance == 1000


def test_the_webhook_body_names_the_hold_as_data_order_points_hold(app, buyer):
    vendor = established_shop()
    raw = json.dumps(
        {
            "id": "evt-1",
            "type": "order.placed",
            "created": int(time.time()),
            "data": {
                "order": {
                    "external_id": "o-1",
                    "checkout_id": "c-1",
                    "vendor_id": str(vendor.id),
                    "customer": {"email": buyer.user.email},
                    "currency": "USD",
                    "items": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": "30.00"}],
                    "subtotal": "30.00",
                    "delivery_fee": "0.00",
                    "points_discount": "6.00",
                    "total": "24.00",
                    "points_hold": "ph_abc",
                }
            },
        }
    ).encode()
    assert parse_event(raw).order.points_hold == "ph_abc"
