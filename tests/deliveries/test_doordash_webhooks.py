"""DoorDash's status webhooks at ``POST /webhooks/doordash``: the configured Authorization header
(compared in constant time), every event mapped onto our statuses, replays and out-of-order
events that change nothing, unknown events answered 200, the Dasher's position kept, and the
whole path over HTTP from the local DoorDash server to a running portal."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from portal.deliveries.models import DeliveryAssignment, DeliveryStatusChange
from portal.deliveries.providers.doordash import EVENT_STATUSES
from portal.deliveries.providers.jobs import send_to_provider
from portal.deliveries.providers.models import ProviderEvent
from portal.deliveries.providers.services import provider_position
from portal.extensions import db
from tests.deliveries.doordash import AUTHORIZATION, doordash_delivery

URL = "/webhooks/doordash"


@pytest.fixture
def booked(db_session, app_doordash):
    """A delivery booked at the local DoorDash server (which keeps its webhooks unsent)."""
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    return str(delivery.id)


def _post(client, payload, authorization=AUTHORIZATION):
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.post(URL, data=json.dumps(payload), headers=headers, csrf=False)


def _events(server, external_id):
    return [
        e["payload"] for e in server.events() if e["payload"]["external_delivery_id"] == external_id
    ]


def _status(external_id) -> str:
    db.session.expire_all()
    return db.session.get(DeliveryAssignment, uuid.UUID(external_id)).status


def _history(external_id) -> list[tuple[str | None, str, str]]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(
                DeliveryStatusChange.from_status,
                DeliveryStatusChange.to_status,
                DeliveryStatusChange.source,
            )
            .where(DeliveryStatusChange.assignment_id == uuid.UUID(external_id))
            .order_by(DeliveryStatusChange.at, DeliveryStatusChange.id)
        ).tuples()
    )


def test_the_events_named_by_doordash_each_map_onto_a_status():
    named = {
        "DASHER_CONFIRMED": "enroute_to_pickup",
        "DASHER_CONFIRMED_PICKUP_ARRIVAL": "arrived_at_pickup",
        "DASHER_PICKED_UP": "picked_up",
        "DASHER_CONFIRMED_DROPOFF_ARRIVAL": "arrived_at_dropoff",
        "DASHER_DROPPED_OFF": "delivered",
        "DELIVERY_CANCELLED": "cancelled",
        "DELIVERY_RETURN_INITIALIZED": "enroute_to_return",
        "DASHER_CONFIRMED_RETURN_ARRIVAL": "arrived_at_return",
        "DELIVERY_RETURNED": "returned",
    }
    assert {name: EVENT_STATUSES[name] for name in named} == named


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("", 401),
        ("Bearer wrong", 401),
        (AUTHORIZATION.upper(), 401),
        (AUTHORIZATION, 200),
    ],
)
def test_only_the_configured_authorization_header_is_heard(
    client, booked, app_doordash, authorization, status
):
    app_doordash.advance(booked, event="DASHER_CONFIRMED")
    [payload] = _events(app_doordash, booked)
    response = _post(client, payload, authorization)
    assert response.status_code == status
    assert _status(booked) == ("enroute_to_pickup" if status == 200 else "created")
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent))
    assert stored == (1 if status == 200 else 0)


def test_the_whole_way_to_delivered_in_order(client, booked, app_doordash):
    app_doordash.advance(booked, to="delivered", location=(45.53, -122.66))
    seen = []
    for payload in _events(app_doordash, booked):
        response = _post(client, payload)
        assert response.status_code == 200 and response.json["status"] == "applied"
        seen.append(_status(booked))
    assert seen == [
        "enroute_to_pickup",
        "arrived_at_pickup",
        "picked_up",
        "arrived_at_dropoff",
        "delivered",
    ]
    assert [(f, t) for f, t, _ in _history(booked)] == [
        (None, "created"),
        ("created", "enroute_to_pickup"),
        ("enroute_to_pickup", "arrived_at_pickup"),
        ("arrived_at_pickup", "picked_up"),
        ("picked_up", "arrived_at_dropoff"),
        ("arrived_at_dropoff", "delivered"),
    ]
    assert {source for _, _, source in _history(booked)[1:]} == {"provider"}
    delivery = db.session.get(DeliveryAssignment, uuid.UUID(booked))
    assert delivery.proof_of_delivery["provider"] == "doordash"
    assert delivery.proof_of_delivery["photo_url"].endswith("/photo.jpg")


def test_the_return_path_and_its_reason(client, booked, app_doordash):
    app_doordash.advance(booked, to="returned")
    for payload in _events(app_doordash, booked):
        assert _post(client, payload).status_code == 200
    assert _status(booked) == "returned"
    assert [t for _, t, _ in _history(booked)][-3:] == [
        "enroute_to_return",
        "arrived_at_return",
        "returned",
    ]


def test_a_cancellation_keeps_doordashs_reason(client, booked, app_doordash):
    app_doordash.advance(booked, event="DELIVERY_CANCELLED")
    [payload] = _events(app_doordash, booked)
    payload["cancellation_reason"] = "failed_to_assign_and_refunded"
    assert _post(client, payload).json["status"] == "applied"
    delivery = db.session.get(DeliveryAssignment, uuid.UUID(booked))
    assert delivery.status == "cancelled"
    assert delivery.status_reason == "DoorDash DELIVERY_CANCELLED: DoorDash found no Dasher"


def test_a_replayed_event_changes_nothing(client, booked, app_doordash):
    app_doordash.advance(booked, to="picked_up")
    payloads = _events(app_doordash, booked)
    for payload in payloads:
        _post(client, payload)
    before = _history(booked)
    for payload in payloads:
        response = _post(client, payload)
        assert response.status_code == 200 and response.json["status"] == "duplicate"
    assert _history(booked) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 3


def test_late_and_out_of_order_events_never_move_a_delivery_back(client, booked, app_doordash):
    app_doordash.advance(booked, to="delivered")
    confirmed, arrival, picked_up, at_dropoff, dropped_off = _events(app_doordash, booked)
    assert _post(client, picked_up).json["status"] == "applied"
    assert _status(booked) == "picked_up"
    for late in (confirmed, arrival):
        assert _post(client, late).json["status"] == "ignored"
        assert _status(booked) == "picked_up"
    assert _post(client, dropped_off).json["status"] == "applied"
    assert _post(client, at_dropoff).json["status"] == "ignored"
    assert _status(booked) == "delivered"
    assert [t for _, t, _ in _history(booked)] == ["created", "picked_up", "delivered"]


def test_a_cancellation_after_delivery_is_ignored(client, booked, app_doordash):
    app_doordash.advance(booked, to="delivered")
    for payload in _events(app_doordash, booked):
        _post(client, payload)
    late = {**_events(app_doordash, booked)[0], "event_name": "DELIVERY_CANCELLED"}
    assert _post(client, late).json["status"] == "ignored"
    assert _status(booked) == "delivered"


def test_the_dashers_position_is_kept_and_an_older_one_never_replaces_it(
    client, booked, app_doordash
):
    app_doordash.advance(booked, event="DASHER_CONFIRMED", location=(45.50, -122.60))
    app_doordash.advance(booked, event="DASHER_CONFIRMED_PICKUP_ARRIVAL", location=(45.52, -122.68))
    first, second = _events(app_doordash, booked)
    _post(client, second)
    _post(client, first)  # late: its older position is not taken
    here = provider_position(uuid.UUID(booked))
    assert (round(here.latitude, 4), round(here.longitude, 4)) == (45.52, -122.68)
    assert here.driver_name == "Dana D."


def test_an_unknown_event_or_delivery_is_answered_200_and_changes_nothing(
    client, booked, app_doordash
):
    app_doordash.advance(booked, event="DASHER_CONFIRMED")
    [payload] = _events(app_doordash, booked)
    unknown = {**payload, "event_name": "DELIVERY_BATCHED"}
    response = _post(client, unknown)
    assert response.status_code == 200 and response.json["status"] == "ignored"
    assert _status(booked) == "created"
    stranger = {**payload, "external_delivery_id": "not-one-of-ours"}
    response = _post(client, stranger)
    assert response.status_code == 200 and response.json["status"] == "unknown_delivery"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"event_name": "DASHER_CONFIRMED"}).encode(),
        json.dumps({"event_name": 7, "external_delivery_id": "x"}).encode(),
        json.dumps(
            {"event_name": "DASHER_CONFIRMED", "external_delivery_id": "x", "created_at": "soon"}
        ).encode(),
    ],
)
def test_a_body_not_shaped_as_doordashs_is_a_400(client, db_session, app_doordash, body):
    response = client.post(
        URL,
        data=body,
        headers={"Authorization": AUTHORIZATION, "Content-Type": "application/json"},
        csrf=False,
    )
    assert response.status_code == 400
    assert "error" in response.json


def test_from_the_local_server_to_a_running_portal_over_http(app_doordash, live_server, committed):
    delivery = doordash_delivery()
    committed.commit()
    send_to_provider(str(delivery.id))
    app_doordash.control("/webhook", {"url": live_server + URL, "authorization": AUTHORIZATION})
    app_doordash.advance(str(delivery.id), to="delivered")
    app_doordash.control("/events/wait", {"timeout": 20})
    statuses = [[d["status"] for d in e["deliveries"]] for e in app_doordash.events()]
    assert statuses == [[200]] * 5
    assert _status(str(delivery.id)) == "delivered"
    app_doordash.control("/webhook", {"url": live_server + URL, "authorization": "Basic bm9wZQ=="})
    app_doordash.control("/events/1/resend")
    app_doordash.control("/events/wait", {"timeout": 20})
    assert app_doordash.events()[0]["deliveries"][-1]["status"] == 401


def test_a_signature_asked_for_is_kept_with_the_proof(
    client, db_session, app_doordash, app, monkeypatch
):
    monkeypatch.setitem(app.config, "DOORDASH_REQUIRE_SIGNATURE", True)
    monkeypatch.setitem(app.config, "DOORDASH_PROOF_OF_DELIVERY", "pin_code")
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    app_doordash.advance(str(delivery.id), to="delivered")
    for payload in _events(app_doordash, str(delivery.id)):
        _post(client, payload)
    db.session.expire_all()
    proof = db.session.get(DeliveryAssignment, delivery.id).proof_of_delivery
    assert proof["signature_url"].endswith("/signature.png") and "photo_url" not in proof
