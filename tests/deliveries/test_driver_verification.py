"""The admin's verification queue and verdicts, the driver's standing on their dashboard, and the
online rule: only a verified driver with a clear check goes online; suspending takes them offline
at once (a delivery not picked up yet is offered again)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import queues
from portal.admin.models import AuditEvent
from portal.clock import utcnow
from portal.deliveries import states, verification
from portal.deliveries.dispatch import DISPATCH_JOB as DISPATCH
from portal.deliveries.models import DeliveryOffer, Driver
from portal.extensions import db
from tests.deliveries.driver_files import pdf_bytes
from tests.deliveries.helpers import delivery_row, driver_profile, verified_driver
from tests.factories import make_admin, make_customer, make_driver, make_vendor


@pytest.fixture
def queue(app):
    queue = queues.get_queue("default", app)
    queue.empty()
    yield queue
    queue.empty()


@pytest.fixture
def admin(client, auth, db_session):
    user = make_admin()
    auth.login(user.email)
    return user


def with_document(driver):
    import io

    from portal.deliveries import documents

    documents.store_document(driver, io.BytesIO(pdf_bytes()), filename="insurance.pdf")
    return driver


def verified_with_document(status="available"):
    """A verified driver whose insurance document is on file (the upload unverifies: verify
    again)."""
    driver = with_document(verified_driver(status="offline"))
    driver.insurance_verified = True
    driver.status = status
    db.session.flush()
    return driver


def applicant(name="Robin Road", email=None, **fields):
    return driver_profile(make_driver(email=email, full_name=name, **fields))


def verdict(client, driver, *, insurance=True, check="clear", note="", query=""):
    data = {"background_check_status": check, "note": note}
    if insurance:
        data["insurance_verified"] = "y"
    return client.post(f"/admin/drivers/{driver.id}/verdict{query}", data=data)


def reload(driver):
    db.session.expire_all()
    return db.session.get(Driver, driver.id)


# --- the queue -----------------------------------------------------------------------------------


def test_the_queue_lists_waiting_drivers_longest_waiting_first(client, admin):
    first = applicant("Ann First")
    second = applicant("Ben Second")
    verified_driver(full_name="Cleo Cleared")
    first.created_at = utcnow() - timedelta(days=2)
    db.session.flush()
    page = client.get("/admin/drivers/").get_data(as_text=True)
    assert page.index("Ann First") < page.index("Ben Second")
    assert "Cleo Cleared" not in page
    assert f"/admin/drivers/{second.id}" in page


def test_the_queue_filters_and_searches(client, admin):
    applicant("Ann Pending")
    suspended = applicant("Sam Suspended", email="sam@example.com")
    suspended.background_check_status = "suspended"
    verified_driver(full_name="Cleo Cleared")
    db.session.flush()

    verified = client.get("/admin/drivers/?show=verified").get_data(as_text=True)
    assert "Cleo Cleared" in verified and "Ann Pending" not in verified
    by_check = client.get("/admin/drivers/?show=all&check=suspended").get_data(as_text=True)
    assert "Sam Suspended" in by_check and "Ann Pending" not in by_check
    by_email = client.get("/admin/drivers/?show=all&q=sam@exa").get_data(as_text=True)
    assert "Sam Suspended" in by_email and "Cleo Cleared" not in by_email
    by_name = client.get("/admin/drivers/?q=ann").get_data(as_text=True)
    assert "Ann Pending" in by_name and "Sam Suspended" not in by_name
    nothing = client.get("/admin/drivers/?q=nobody%25_").get_data(as_text=True)
    assert "No driver matches these filters" in nothing
    assert client.get("/admin/drivers/?show=bogus&check=bogus").status_code == 200


def test_the_queue_answers_htmx_with_the_rows_only(client, admin):
    applicant("Ann Pending")
    answer = client.get("/admin/drivers/?q=ann", headers={"HX-Request": "true"})
    body = answer.get_data(as_text=True)
    assert "Ann Pending" in body and "<html" not in body


def test_a_driver_page_shows_details_and_the_document(client, admin):
    driver = with_document(applicant("Robin Road", phone="+1 503 555 0123", license_number="OR77"))
    page = client.get(f"/admin/drivers/{driver.id}").get_data(as_text=True)
    for text in ("Robin Road", "+1 503 555 0123", "OR77", driver.email, "Open the document"):
        assert text in page
    document_link = "/driver-documents/"
    assert document_link in page
    assert client.get("/admin/drivers/00000000-0000-0000-0000-000000000000").status_code == 404


# --- the verdict ---------------------------------------------------------------------------------


def test_verifying_saves_audits_and_opens_the_next_driver(client, admin):
    first = with_document(applicant("Ann First"))
    second = applicant("Ben Second")
    first.created_at = utcnow() - timedelta(days=1)
    db.session.flush()

    answer = verdict(client, first, note="Licence checked by phone.")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/admin/drivers/{second.id}?show=waiting")
    first = reload(first)
    assert (first.insurance_verified, first.background_check_status) == (True, "clear")
    assert first.verification_note == "Licence checked by phone."
    assert first.verified_by_id == admin.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.subject_id == str(first.id)))
    assert event.action == "driver.verification" and event.actor_id == admin.id
    assert event.detail["background_check"] == "clear"
    assert "is verified and may go online" in client.get(answer.headers["Location"]).get_data(
        as_text=True
    )


def test_the_last_driver_of_the_queue_goes_back_to_the_list(client, admin):
    only = with_document(applicant("Ann Only"))
    answer = verdict(client, only)
    assert answer.headers["Location"].endswith("/admin/drivers/?show=waiting")


def test_insurance_cannot_be_verified_without_a_document(client, admin):
    driver = applicant()
    answer = verdict(client, driver)
    assert answer.status_code == 422
    assert "has not uploaded an insurance document" in answer.get_data(as_text=True)
    assert reload(driver).insurance_verified is False


def test_an_unknown_check_status_and_a_long_note_are_refused(app, client, admin):
    driver = with_document(applicant())
    assert verdict(client, driver, check="approved").status_code == 422
    long_note = "x" * (app.config["DRIVER_VERIFICATION_NOTE_MAX"] + 1)
    answer = verdict(client, driver, note=long_note)
    assert answer.status_code == 422
    assert "at most" in answer.get_data(as_text=True)
    assert reload(driver).background_check_status == "pending"


def test_a_verdict_needs_csrf(client, admin):
    driver = with_document(applicant())
    answer = client.post(
        f"/admin/drivers/{driver.id}/verdict",
        data={"insurance_verified": "y", "background_check_status": "clear"},
        csrf=False,
    )
    assert answer.status_code in (400, 422)
    assert reload(driver).background_check_status == "pending"


@pytest.mark.parametrize("who", ["vendor", "customer", "driver", "anonymous"])
def test_only_admins_see_the_queue_and_give_verdicts(client, auth, who):
    driver = with_document(applicant())
    makers = {"vendor": make_vendor, "customer": make_customer, "driver": make_driver}
    if who != "anonymous":
        auth.login(makers[who]().email)
    for answer in (
        client.get("/admin/drivers/"),
        client.get(f"/admin/drivers/{driver.id}"),
        verdict(client, driver),
    ):
        assert answer.status_code in (302, 403)
    assert reload(driver).background_check_status == "pending"


# --- going online, and offline at once -----------------------------------------------------------


@pytest.mark.parametrize(
    ("insurance", "check", "may"),
    [
        (True, "clear", True),
        (False, "clear", False),
        (True, "consider", False),
        (True, "pending", False),
        (True, "suspended", False),
        (True, "failed", False),
    ],
)
def test_only_a_verified_driver_with_a_clear_check_goes_online(client, auth, insurance, check, may):
    driver = applicant()
    driver.insurance_verified = insurance
    driver.background_check_status = check
    db.session.flush()
    auth.login(driver.email)
    answer = client.post(
        "/driver/availability", data={"status": "available"}, headers={"HX-Request": "true"}
    )
    assert (answer.status_code == 200) is may
    assert (reload(driver).status == "available") is may


@pytest.mark.parametrize("check", ["suspended", "failed"])
def test_suspending_an_online_driver_takes_them_offline_and_withdraws_their_offer(
    client, admin, queue, check
):
    driver = verified_with_document("available")
    delivery = delivery_row()
    offer = DeliveryOffer(
        assignment_id=delivery.id,
        driver_id=driver.id,
        offered_at=utcnow(),
        expires_at=utcnow() + timedelta(seconds=60),
    )
    db.session.add(offer)
    db.session.flush()

    verdict(client, driver, check=check, note="Insurance lapsed.")
    driver = reload(driver)
    assert driver.status == "offline"
    assert db.session.get(DeliveryOffer, offer.id).outcome == "withdrawn"


def test_suspending_a_driver_before_pickup_hands_the_delivery_back(app, admin, queue):
    driver = verified_with_document("on_delivery")
    delivery = delivery_row(driver_id=driver.id)
    states.advance(delivery, "confirmed", source="driver")
    states.advance(delivery, "enroute_to_pickup", source="driver")
    db.session.flush()

    outcome = verification.record_verdict(
        driver.id,
        insurance_verified=True,
        background_check_status="suspended",
        note="Suspended.",
        actor=admin,
    )
    assert outcome.went_offline and outcome.reopened == [delivery.id]
    db.session.refresh(delivery)
    assert (delivery.status, delivery.driver_id) == ("created", None)
    assert delivery.history[-1].source == "admin"
    assert reload(driver).status == "offline"
    # The dispatch job is queued once the verdict commits.
    from portal.queues import _AFTER_COMMIT

    waiting = db.session().info.get(_AFTER_COMMIT, [])
    assert (DISPATCH, (str(delivery.id),)) in [(f, a) for f, a, _ in waiting]


def test_suspending_a_driver_who_carries_an_order_leaves_it_with_them(admin):
    driver = verified_with_document("on_delivery")
    delivery = delivery_row(driver_id=driver.id)
    for step in ("confirmed", "enroute_to_pickup", "arrived_at_pickup", "picked_up"):
        states.advance(delivery, step, source="driver")
    outcome = verification.record_verdict(
        driver.id,
        insurance_verified=True,
        background_check_status="suspended",
        note=None,
        actor=admin,
    )
    assert outcome.still_carrying == [delivery.id]
    assert "stays with them to finish" in outcome.message
    db.session.refresh(delivery)
    assert (delivery.status, delivery.driver_id) == ("picked_up", driver.id)
    assert reload(driver).status == "offline"


# --- the driver's dashboard ----------------------------------------------------------------------


def dashboard(client):
    return client.get("/driver/").get_data(as_text=True)


def test_a_new_driver_sees_what_is_missing(client, auth):
    driver = applicant()
    auth.login(driver.email)
    page = dashboard(client)
    assert "upload your insurance document" in page
    assert "Upload your insurance document" in page
    assert "The check is pending." in page
    assert "position-sharing" not in page


def test_after_the_upload_the_driver_waits_for_an_admin(client, auth):
    driver = with_document(applicant())
    auth.login(driver.email)
    page = dashboard(client)
    assert "an admin verifies your insurance" in page
    assert "Replace your insurance document" in page


def test_the_admin_note_and_a_suspension_show_on_the_dashboard(client, auth):
    driver = with_document(applicant())
    driver.insurance_verified = True
    driver.background_check_status = "suspended"
    driver.verification_note = "Call us about your licence."
    db.session.flush()
    auth.login(driver.email)
    page = dashboard(client)
    assert "Your background check is suspended: you cannot drive." in page
    assert "Call us about your licence." in page


def test_a_verified_driver_gets_the_switch_and_the_position_token(client, auth):
    driver = verified_with_document("offline")
    auth.login(driver.email)
    page = dashboard(client)
    assert 'id="availability"' in page
    assert 'data-token="' in page and "/driver-positions" in page
    assert "Before you can drive" not in page


def test_a_verdict_refreshes_the_sidebars_count(app, client, admin):
    from portal.admin import counts

    counts.forget("drivers-to-verify")  # (another test's count may be kept)
    driver = with_document(applicant())
    assert counts.drivers_to_verify() == 1  # counted, and kept in Redis a while
    verdict(client, driver)
    assert counts.drivers_to_verify() == 0
