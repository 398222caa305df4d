"""The admin's points adjustment: only admins, CSRF, a reason, never below zero; audited."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from portal.admin.models import AuditEvent
from portal.extensions import db
from portal.loyalty import points
from tests.factories import make_customer, make_driver, make_vendor
from tests.loyalty.helpers import customer
from tests.toasts import toast_of

HTMX = {"HX-Request": "true"}


@pytest.fixture
def buyer(db_session):
    person = customer()
    db.session.commit()  # survives the views' rollbacks of refused adjustments
    return person


def url(buyer) -> str:
    return f"/admin/customers/{buyer.id}/points/adjust"


def test_admin_adds_and_takes_away_points_with_a_reason(client, verified_admin, buyer):
    page = client.get(url(buyer)).get_data(as_text=True)
    assert "Adjust points" in page and "Balance <strong>0</strong>" in page
    answer = client.post(
        url(buyer), data={"points": "500", "reason": "Late delivery"}, headers=HTMX
    )
    assert answer.status_code == 200
    assert toast_of(answer) == "Added 500 points; the balance is 500."
    assert "Balance <strong>500</strong>" in answer.get_data(as_text=True)
    answer = client.post(url(buyer), data={"points": "-200", "reason": "Mistake"}, headers=HTMX)
    assert toast_of(answer) == "Took away 200 points; the balance is 300."
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "points.adjusted")
    ).all()
    assert sorted(event.detail["points"] for event in events) == [-200, 500]
    assert {event.actor_id for event in events} == {verified_admin.id}
    # Without HTMX: back to the page, the outcome flashed.
    plain = client.post(url(buyer), data={"points": "1", "reason": "plain"})
    assert plain.status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"points": "100", "reason": ""}, "Say why the points are adjusted."),
        ({"points": "", "reason": "x"}, "Enter a whole number of points"),
        ({"points": "abc", "reason": "x"}, "Enter a whole number of points"),
        ({"points": "99999999", "reason": "x"}, "at most 1,000,000 points"),
        ({"points": "-1", "reason": "x"}, "taking 1 would take it below zero"),
        ({"points": "0", "reason": "x"}, "other than zero"),
    ],
)
def test_refusals_are_shown_beside_the_form(client, verified_admin, buyer, data, message):
    answer = client.post(url(buyer), data=data, headers=HTMX)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert points.balance_row(buyer.id) is None or points.balance_row(buyer.id).current_balance == 0


def test_needs_the_csrf_token(client, verified_admin, buyer):
    answer = client.post(url(buyer), data={"points": "5", "reason": "x"}, csrf=False)
    assert answer.status_code == 400
    assert points.balance_row(buyer.id) is None


def test_an_unknown_customer_is_404(client, verified_admin):
    assert client.get(f"/admin/customers/{uuid.uuid4()}/points/adjust").status_code == 404


@pytest.mark.parametrize("maker", [make_customer, make_vendor, make_driver])
def test_only_admins_may_adjust(client, auth, buyer, maker):
    user = maker()
    auth.login(user.email)
    assert client.get(url(buyer)).status_code in (302, 403)
    answer = client.post(url(buyer), data={"points": "5", "reason": "x"})
    assert answer.status_code in (302, 403)
    assert points.balance_row(buyer.id) is None


def test_anonymous_is_sent_to_sign_in(client, buyer):
    answer = client.post(url(buyer), data={"points": "5", "reason": "x"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
