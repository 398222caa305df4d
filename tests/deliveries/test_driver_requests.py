"""A driver's status change sent twice with one Idempotency-Key acts once and answers the same;
the online switch follows the verification rules."""

import pytest
import sqlalchemy as sa

from portal.deliveries.models import DriverRequest
from portal.extensions import db
from tests.deliveries.helpers import driver_profile, verified_driver
from tests.factories import make_driver, make_vendor


def signed_in(auth, driver):
    auth.login(driver.email)
    return driver


def switch(client, status, key=None):
    headers = {"HX-Request": "true"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/driver/availability", data={"status": status}, headers=headers)


def test_a_repeat_with_the_same_key_replays_the_first_answer(client, auth):
    driver = signed_in(auth, verified_driver(status="offline"))
    first = switch(client, "available", key="tap-0001-abcdef")
    assert first.status_code == 200
    assert "You are online" in first.get_data(as_text=True)
    driver.status = "offline"  # the driver went offline from another tab meanwhile
    db.session.flush()

    again = switch(client, "available", key="tap-0001-abcdef")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data(as_text=True) == first.get_data(as_text=True)
    assert driver.status == "offline"  # the repeat did not act again
    keys = db.session.scalars(sa.select(DriverRequest).where(DriverRequest.driver_id == driver.id))
    assert [row.status_code for row in keys] == [200]


def test_a_refusal_is_kept_for_its_key_too(client, auth):
    driver = signed_in(auth, driver_profile(make_driver()))  # not verified
    refused = switch(client, "available", key="tap-0002-abcdef")
    assert refused.status_code == 422
    assert "once your insurance is verified" in refused.get_data(as_text=True)
    again = switch(client, "available", key="tap-0002-abcdef")
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (422, "true")
    assert driver.status == "offline"


def test_a_key_is_checked(client, auth):
    signed_in(auth, verified_driver(status="offline"))
    assert switch(client, "available", key="short").status_code == 400
    assert switch(client, "available", key="has spaces in it").status_code == 400


def test_without_a_key_the_switch_still_works(client, auth):
    driver = signed_in(auth, verified_driver(status="available"))
    assert switch(client, "offline").status_code == 200
    assert driver.status == "offline"


@pytest.mark.parametrize("status", ["on_delivery", "busy", ""])
def test_only_online_or_offline_can_be_chosen(client, auth, status):
    driver = signed_in(auth, verified_driver(status="offline"))
    answer = switch(client, status)
    assert answer.status_code == 422
    assert "Choose online or offline" in answer.get_data(as_text=True)
    assert driver.status == "offline"


def test_a_driver_on_a_delivery_cannot_go_offline(client, auth):
    driver = signed_in(auth, verified_driver(status="on_delivery"))
    answer = switch(client, "offline")
    assert answer.status_code == 422
    assert "Finish or hand back your delivery" in answer.get_data(as_text=True)
    assert driver.status == "on_delivery"


def test_only_drivers_reach_the_switch(client, auth):
    vendor = make_vendor()
    auth.login(vendor.email)
    assert switch(client, "available", key="tap-0003-abcdef").status_code == 403
