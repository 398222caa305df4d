"""The delivery status machine: legal steps only for people, forward-only for providers, every
change in the history with who made it."""

import pytest
import sqlalchemy as sa

from portal.deliveries import states
from portal.deliveries.models import DeliveryStatusChange
from portal.extensions import db
from tests.deliveries.helpers import delivery_row

MAIN_PATH = [
    "created",
    "confirmed",
    "enroute_to_pickup",
    "arrived_at_pickup",
    "picked_up",
    "enroute_to_dropoff",
    "arrived_at_dropoff",
    "delivered",
]


@pytest.fixture
def assignment(db_session):
    return delivery_row()


def history(delivery):
    return db.session.execute(
        sa.select(DeliveryStatusChange.from_status, DeliveryStatusChange.to_status)
        .where(DeliveryStatusChange.assignment_id == delivery.id)
        .order_by(DeliveryStatusChange.at, DeliveryStatusChange.id)
    ).all()


def test_the_main_path_one_step_at_a_time(assignment):
    for status in MAIN_PATH[1:]:
        assert states.next_step(assignment.status) == status
        states.advance(assignment, status, source="driver")
    assert assignment.status == "delivered"
    assert states.next_step("delivered") is None
    steps = history(assignment)
    assert [to for _, to in steps] == MAIN_PATH
    assert steps[0][0] is None and steps[-1] == ("arrived_at_dropoff", "delivered")


def test_a_skipped_or_backward_step_is_refused_with_words(assignment):
    with pytest.raises(states.IllegalTransition, match="cannot become “Picked up”"):
        states.advance(assignment, "picked_up", source="driver")
    for status in MAIN_PATH[1:]:
        states.advance(assignment, status, source="driver")
    with pytest.raises(states.IllegalTransition, match="already delivered"):
        states.advance(assignment, "cancelled", source="admin")
    with pytest.raises(states.IllegalTransition, match="not a delivery status"):
        states.advance(assignment, "lost", source="admin")
    assert assignment.status == "delivered"


def test_the_return_path_reaches_arrived_at_return(assignment):
    for status in MAIN_PATH[1:5]:
        states.advance(assignment, status, source="driver")
    for status in ("enroute_to_return", "arrived_at_return", "returned"):
        states.advance(assignment, status, source="driver", note="Customer not home")
    assert assignment.status == "returned"
    assert assignment.status_reason == "Customer not home"
    db.session.flush()  # the status check admits arrived_at_return


def test_a_provider_may_skip_ahead_but_never_goes_back(assignment):
    assert states.apply_reported(assignment, "picked_up").to_status == "picked_up"
    # Late, repeated or out-of-order reports change nothing.
    assert states.apply_reported(assignment, "confirmed") is None
    assert states.apply_reported(assignment, "picked_up") is None
    assert states.apply_reported(assignment, "delivered").from_status == "picked_up"
    assert states.apply_reported(assignment, "cancelled") is None
    assert states.apply_reported(assignment, "enroute_to_dropoff") is None
    assert assignment.status == "delivered"
    assert [to for _, to in history(assignment)] == ["created", "picked_up", "delivered"]


def test_reopen_only_before_pickup(assignment):
    states.advance(assignment, "confirmed", source="driver")
    states.reopen(assignment, source="admin", note="Driver's car broke down")
    assert assignment.status == "created"
    for status in MAIN_PATH[1:5]:
        states.advance(assignment, status, source="driver")
    with pytest.raises(states.IllegalTransition, match="cannot be given to another driver"):
        states.reopen(assignment, source="admin")


def test_effects_run_in_the_transaction_on_entering_a_status(assignment, monkeypatch):
    reached = []
    monkeypatch.setitem(states._EFFECTS, "confirmed", [lambda a, at: reached.append(a.status)])
    states.advance(assignment, "confirmed", source="driver")
    assert reached == ["confirmed"]
