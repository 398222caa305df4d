"""The account state in plain words, from what Stripe says of the account."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.payouts.account_state import describe, requirement_words
from portal.payouts.connect_models import StripeOnboarding
from portal.payouts.models import ConnectedAccount


def _account(payouts=False, transfers="inactive", **requirements) -> ConnectedAccount:
    base = {
        "currently_due": [],
        "past_due": [],
        "errors": [],
        "pending_verification": [],
        "disabled_reason": None,
        "current_deadline": None,
    }
    return ConnectedAccount(
        stripe_account_id="acct_1",
        account_type="express",
        payouts_enabled=payouts,
        charges_enabled=payouts,
        capabilities={"transfers": transfers},
        requirements={**base, **requirements},
    )


def _claim(submitted=True, disconnected=None) -> StripeOnboarding:
    return StripeOnboarding(details_submitted=submitted, disconnected_at=disconnected)


def test_no_account_is_not_set_up():
    state = describe(None, None)
    assert (state.key, state.label, state.can_set_up, state.has_dashboard) == (
        "not_set_up",
        "Not set up",
        True,
        False,
    )


def test_active_needs_payouts_enabled_and_transfers_active():
    assert describe(_account(True, "active"), _claim()).key == "active"
    assert describe(_account(True, "active"), _claim()).has_dashboard
    assert describe(_account(False, "active"), _claim()).key == "verifying"
    assert describe(_account(True, "pending"), _claim()).key == "verifying"


def test_action_required_says_what_stripe_asks_and_by_when():
    deadline = int(datetime(2027, 1, 15, tzinfo=UTC).timestamp())
    state = describe(
        _account(
            currently_due=["individual.dob.day", "individual.dob.month", "external_account"],
            past_due=["individual.ssn_last_4"],
            errors=[
                {
                    "code": "verification_document_expired",
                    "reason": "The document has expired.",
                    "requirement": "individual.verification.document",
                }
            ],
            current_deadline=deadline,
        ),
        _claim(),
    )
    assert state.key == "action_required" and state.can_continue
    # Past due first; the three date-of-birth codes read as one thing.
    assert state.asks == [
        "the last 4 digits of your Social Security number",
        "your date of birth",
        "a bank account for payouts",
    ]
    assert state.errors == ["a photo of your ID document: The document has expired."]
    assert state.deadline == datetime(2027, 1, 15, tzinfo=UTC)
    assert state.overdue


def test_an_unfinished_setup_asks_to_finish_it():
    state = describe(
        _account(currently_due=["tos_acceptance.date"], disabled_reason="requirements.past_due"),
        _claim(submitted=False),
    )
    assert state.key == "action_required"
    assert state.summary.startswith("Finish setting up")
    assert not state.has_dashboard  # Stripe opens the dashboard only after the details


def test_verifying_names_what_stripe_checks():
    state = describe(
        _account(
            pending_verification=["individual.id_number"],
            disabled_reason="requirements.pending_verification",
        ),
        _claim(),
    )
    assert state.key == "verifying"
    assert "your ID number" in state.summary


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("rejected.fraud", "suspected fraud"),
        ("under_review", "reviewing"),
        ("platform_paused", "paused"),
        ("something.new", "(something.new)"),
    ],
)
def test_restricted_gives_stripes_reason_in_words(reason, words):
    state = describe(_account(disabled_reason=reason), _claim())
    assert state.key == "restricted" and state.tone == "critical"
    assert words in state.summary


def test_disconnected_wins_over_everything():
    state = describe(_account(True, "active"), _claim(disconnected=datetime.now(UTC)))
    assert state.key == "disconnected"
    assert not state.has_dashboard and not state.can_continue and not state.can_set_up


def test_unknown_codes_still_read_as_words():
    assert requirement_words("company.address.line1") == "your company's address"
    assert requirement_words("settings.card_issuing.tos") == "settings card issuing tos"
