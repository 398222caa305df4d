"""A driver's tap in a dead spot is sent when the phone is back online, and an answer lost on the
way back does not make the retry act twice (static/js/driver_outbox.js, Idempotency-Key)."""

import pytest
import sqlalchemy as sa

from portal.deliveries.models import Driver, DriverRequest
from portal.extensions import db
from tests.browser.conftest import PHONE, sign_in
from tests.deliveries.helpers import verified_driver

pytestmark = pytest.mark.browser


def stored(driver_id):
    db.session.expire_all()
    status = db.session.scalar(sa.select(Driver.status).where(Driver.id == driver_id))
    keys = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DriverRequest)
        .where(DriverRequest.driver_id == driver_id)
    )
    return status, keys


def test_a_tap_offline_is_sent_once_back_online(live_server, committed, page_factory):
    driver = verified_driver(status="offline")
    committed.commit()
    page = page_factory(PHONE)
    sign_in(page, live_server, driver.email, lands_on="/driver/")

    page.context.set_offline(True)
    page.click("#availability button")
    banner = page.locator("#outbox-status")
    banner.wait_for(state="visible")
    assert "1 change waits" in banner.inner_text()
    assert stored(driver.id) == ("offline", 0)

    page.context.set_offline(False)
    page.wait_for_selector("#availability.is-online")
    assert "You are online" in page.inner_text("#availability")
    assert banner.is_hidden()
    assert stored(driver.id) == ("available", 1)
    assert page.evaluate("localStorage.getItem('portal-driver-outbox')") == "[]"
    assert page.console_errors == [] or all(
        "ERR_INTERNET_DISCONNECTED" in e for e in page.console_errors
    )


def test_an_answer_lost_on_the_way_back_is_replayed_not_redone(
    live_server, committed, page_factory
):
    driver = verified_driver(status="offline")
    committed.commit()
    page = page_factory(PHONE)
    sign_in(page, live_server, driver.email, lands_on="/driver/")
    sent_keys = []

    def lose_the_first_answer(route):
        sent_keys.append(route.request.headers["idempotency-key"])
        if len(sent_keys) == 1:
            route.fetch()  # the server acts...
            route.abort("connectionreset")  # ...and the phone never hears back
        else:
            route.continue_()

    page.route("**/driver/availability", lose_the_first_answer)
    page.click("#availability button")
    page.wait_for_selector("#availability.is-online")
    assert len(sent_keys) == 2 and sent_keys[0] == sent_keys[1]
    assert stored(driver.id) == ("available", 1)

    # The next tap is a new change with a key of its own.
    page.click("#availability button")
    page.wait_for_selector("#availability:not(.is-online)")
    assert len(set(sent_keys)) == 2
    assert stored(driver.id) == ("offline", 2)
