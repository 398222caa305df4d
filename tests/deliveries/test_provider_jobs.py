"""The provider jobs against the local DoorDash server: quote, accept within the quote's
validity (else create), what is kept of the booking, the delivery margin, a retry that never
books twice, an admin's cancel before and after pickup, and the shop's choice of DoorDash."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.clock import today
from portal.deliveries import states
from portal.deliveries.providers import ProviderUnavailable
from portal.deliveries.providers.jobs import cancel_at_provider, send_to_provider
from portal.deliveries.providers.models import ProviderDelivery
from portal.deliveries.providers.services import margin_summary
from portal.extensions import db
from portal.orders import handling
from portal.vendors.services import vendor_for_user
from tests.deliveries.doordash import doordash_delivery
from tests.factories import make_vendor
from tests.orders.helpers import paid_order


def _row(delivery) -> ProviderDelivery:
    db.session.expire_all()
    return db.session.get(ProviderDelivery, delivery.id)


def _sent(server, path="/drive/v2/quotes") -> dict:
    [body] = [json.loads(r["body"]) for r in server.received() if r["path"] == path]
    return body


def test_quote_then_accept_keeps_the_reference_tracking_link_and_fee(db_session, app_doordash):
    delivery = doordash_delivery(fee="4.99")
    db.session.commit()
    app_doordash.control("/fee", {"cents": 899})
    assert send_to_provider(str(delivery.id)) == str(delivery.id)
    assert [(r["method"], r["path"], r["status"]) for r in app_doordash.received()] == [
        ("GET", f"/drive/v2/deliveries/{delivery.id}", 404),
        ("POST", "/drive/v2/quotes", 200),
        ("POST", f"/drive/v2/quotes/{delivery.id}/accept", 200),
    ]
    db.session.expire_all()
    assert delivery.provider == "doordash"
    assert delivery.provider_reference_id == str(delivery.id)
    assert delivery.tracking_url == f"{app_doordash.url}/tracking/{delivery.id}"
    row = _row(delivery)
    assert row.quoted_fee == Decimal("8.99") and row.fee == Decimal("8.99")
    assert row.booked_by == "accepted_quote" and row.provider_status == "created"
    assert row.quote_expires_at - row.quoted_at == timedelta(minutes=5)
    sent = _sent(app_doordash)
    assert sent["external_delivery_id"] == str(delivery.id)
    assert sent["dropoff_phone_number"] == "+15035550123"
    # The shop's "+1 555 0100" is no E.164 number: the marketplace's support line goes instead.
    assert sent["pickup_phone_number"] == "+15035550100"
    assert sent["dropoff_contact_given_name"] == "Robin"
    assert sent["order_value"] == 450 and sent["dropoff_options"] == {
        "proof_of_delivery": "photo_required"
    }


def test_the_platform_absorbs_a_quote_above_the_customers_fee_as_margin(db_session, app_doordash):
    above = doordash_delivery(fee="4.99")
    below = doordash_delivery(fee="9.99")
    db.session.commit()
    app_doordash.control("/fee", {"cents": 799})
    send_to_provider(str(above.id))
    send_to_provider(str(below.id))
    assert _row(above).margin == Decimal("-3.00")
    assert _row(below).margin == Decimal("2.00")
    summary = margin_summary(today())
    assert summary.deliveries == 2
    assert summary.fees_charged == Decimal("14.98") and summary.provider_cost == Decimal("15.98")
    assert summary.margin == Decimal("-1.00") and summary.absorbed == Decimal("3.00")


def test_the_admin_overview_shows_the_delivery_margin(
    client, db_session, app_doordash, verified_admin
):
    delivery = doordash_delivery(fee="4.99")
    db.session.commit()
    app_doordash.control("/fee", {"cents": 799})
    send_to_provider(str(delivery.id))
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="delivery-margin"' in page
    assert "-$3.00" in page and "the platform absorbs $3.00" in page


def test_a_quote_too_close_to_running_out_is_not_accepted_the_delivery_is_created(
    db_session, app_doordash, monkeypatch, app
):
    # Accept only with more validity left than a quote ever has: the job creates outright.
    monkeypatch.setitem(app.config, "DOORDASH_QUOTE_MARGIN_SECONDS", 301)
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    paths = [r["path"] for r in app_doordash.received()]
    assert paths[-2:] == ["/drive/v2/quotes", "/drive/v2/deliveries"]
    assert not any("accept" in path for path in paths)
    assert _row(delivery).booked_by == "created"
    assert len(app_doordash.deliveries()) == 1


def test_a_retry_after_an_answer_lost_on_the_way_back_books_nothing_twice(
    db_session, app_doordash, app, monkeypatch
):
    monkeypatch.setitem(app.config, "DOORDASH_MAX_ATTEMPTS", 1)
    delivery = doordash_delivery()
    db.session.commit()
    app_doordash.control(
        "/faults",
        {"method": "POST", "path": f"/drive/v2/quotes/{delivery.id}/accept", "fault": "drop_after"},
    )
    with pytest.raises(ProviderUnavailable):
        send_to_provider(str(delivery.id))  # DoorDash booked it; the job never heard
    db.session.expire_all()
    assert delivery.provider_reference_id is None
    assert send_to_provider(str(delivery.id)) == str(delivery.id)  # RQ's retry
    assert send_to_provider(str(delivery.id)) == str(delivery.id)  # and another
    assert len(app_doordash.deliveries()) == 1
    assert _row(delivery).booked_by == "found"
    posts = [r["path"] for r in app_doordash.received() if r["method"] == "POST"]
    assert posts == ["/drive/v2/quotes", f"/drive/v2/quotes/{delivery.id}/accept"]


def test_a_delivery_a_driver_took_or_that_finished_is_not_sent(db_session, app_doordash):
    delivery = doordash_delivery()
    states.advance(delivery, "cancelled", source="admin", note="no longer needed")
    db.session.commit()
    assert send_to_provider(str(delivery.id)) is None
    assert send_to_provider(str(uuid.uuid4())) is None
    assert app_doordash.received() == []


def test_an_admin_cancel_before_pickup_cancels_at_doordash(db_session, app_doordash):
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    states.advance(delivery, "cancelled", source="admin", note="Customer called")
    db.session.commit()
    assert cancel_at_provider(str(delivery.id)) == "cancelled"
    [kept] = app_doordash.deliveries()
    assert kept["delivery_status"] == "cancelled"
    assert kept["cancellation_reason"] == "cancelled_by_creator"
    row = _row(delivery)
    assert row.cancel_requested_at is not None and row.cancel_refusal is None
    assert cancel_at_provider(str(delivery.id)) == "cancelled"  # a retry: still cancelled


def test_doordash_refuses_to_cancel_after_pickup_and_the_refusal_is_kept(db_session, app_doordash):
    delivery = doordash_delivery()
    db.session.commit()
    send_to_provider(str(delivery.id))
    app_doordash.advance(str(delivery.id), to="picked_up")
    assert cancel_at_provider(str(delivery.id)) is None
    assert "picked it up" in _row(delivery).cancel_refusal
    [kept] = app_doordash.deliveries()
    assert kept["delivery_status"] == "picked_up"


def test_a_cancel_of_a_delivery_never_booked_there_asks_nothing(db_session, app_doordash):
    delivery = doordash_delivery()
    db.session.commit()
    assert cancel_at_provider(str(delivery.id)) is None
    assert app_doordash.received() == []


def test_the_vendors_ready_with_doordash_button(client, auth, db_session):
    user = make_vendor()
    order = paid_order(vendor_for_user(user))
    handling.accept_order(order)
    db.session.commit()
    auth.login(user.email)
    page = client.get(f"/vendor/orders/{order.id}").get_data(as_text=True)
    assert 'name="provider" value="doordash"' in page and "Ready, DoorDash delivers" in page
    refused = client.post(
        f"/vendor/orders/{order.id}/ready?view=detail",
        data={"provider": "pigeon"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422
    assert "Choose our drivers or DoorDash" in refused.get_data(as_text=True)
    done = client.post(
        f"/vendor/orders/{order.id}/ready?view=detail",
        data={"provider": "doordash"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    assert "DoorDash delivers it" in done.headers["HX-Trigger"]
    db.session.expire_all()
    assert order.ready_at is not None
