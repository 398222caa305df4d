"""A vendor's Stripe account in plain words: one reading, shared by the vendor's and admin's pages.

States: not set up, active, action required (what Stripe asks, its errors and deadline),
verifying, restricted (Stripe's ``disabled_reason``), disconnected. Read from the
``connected_accounts`` row (kept current by the Connect webhooks) and the vendor's
``stripe_onboarding`` row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from .connect_models import StripeOnboarding
from .holders import Holder
from .models import ConnectedAccount

NOT_SET_UP = "not_set_up"
ACTIVE = "active"
ACTION_REQUIRED = "action_required"
VERIFYING = "verifying"
RESTRICTED = "restricted"
DISCONNECTED = "disconnected"

LABELS = {
    NOT_SET_UP: ("Not set up", "neutral"),
    ACTIVE: ("Active", "success"),
    ACTION_REQUIRED: ("Action required", "warning"),
    VERIFYING: ("Verifying", "info"),
    RESTRICTED: ("Restricted", "critical"),
    DISCONNECTED: ("Disconnected", "critical"),
}

# Stripe's requirement codes in words; a code is matched on its longest known prefix.
REQUIREMENT_WORDS = {
    "business_profile.mcc": "your business category",
    "business_profile.url": "your business website",
    "business_profile.product_description": "a description of what you sell",
    "business_profile": "your business profile",
    "business_type": "your type of business",
    "external_account": "a bank account for payouts",
    "individual.address": "your home address",
    "individual.dob": "your date of birth",
    "individual.email": "your email address",
    "individual.first_name": "your legal name",
    "individual.last_name": "your legal name",
    "individual.phone": "your phone number",
    "individual.ssn_last_4": "the last 4 digits of your Social Security number",
    "individual.id_number": "your ID number",
    "individual.verification.document": "a photo of your ID document",
    "individual.verification.additional_document": "a document proving your address",
    "individual": "your personal details",
    "company.address": "your company's address",
    "company.tax_id": "your company's tax ID",
    "company.name": "your company's legal name",
    "company.phone": "your company's phone number",
    "company.verification.document": "a document verifying your company",
    "company": "your company's details",
    "representative": "details of your company's representative",
    "owners": "details of your company's owners",
    "directors": "details of your company's directors",
    "tos_acceptance": "accepting Stripe's terms of service",
    "settings.payments.statement_descriptor": "the name on customers' statements",
}

# ``requirements.disabled_reason`` in words (Stripe's published values).
DISABLED_WORDS = {
    "requirements.past_due": "Stripe needs more information, and the deadline has passed.",
    "requirements.pending_verification": "Stripe is verifying the information you gave.",
    "listed": "Stripe has restricted the account after checking it against watch lists.",
    "platform_paused": "The marketplace has paused payouts to this account.",
    "rejected.fraud": "Stripe rejected the account because of suspected fraud.",
    "rejected.incomplete_verification": (
        "Stripe rejected the account: verification was not completed."
    ),
    "rejected.listed": "Stripe rejected the account after checking it against watch lists.",
    "rejected.other": "Stripe rejected the account.",
    "rejected.terms_of_service": "Stripe rejected the account for breaking its terms of service.",
    "under_review": "Stripe is reviewing the account.",
    "other": "Stripe has restricted the account.",
    "action_required.requested_capabilities": (
        "Stripe needs more information before it can pay you."
    ),
}
# Reasons that mean "give Stripe more", not "Stripe said no".
ASKING_REASONS = {"requirements.past_due", "action_required.requested_capabilities"}


def requirement_words(code: str) -> str:
    parts = code.split(".")
    for end in range(len(parts), 0, -1):
        words = REQUIREMENT_WORDS.get(".".join(parts[:end]))
        if words:
            return words
    return code.replace(".", " ").replace("_", " ")


def _unique_words(codes: list[str]) -> list[str]:
    seen: list[str] = []
    for code in codes:
        words = requirement_words(code)
        if words not in seen:
            seen.append(words)
    return seen


@dataclass(frozen=True)
class AccountState:
    key: str
    summary: str
    asks: list[str] = field(default_factory=list)  # what Stripe wants, in words
    errors: list[str] = field(default_factory=list)  # why what was given was not accepted
    deadline: datetime | None = None
    overdue: bool = False  # past_due: Stripe has already held the account back
    account_id: str | None = None
    details_submitted: bool = False

    @property
    def label(self) -> str:
        return LABELS[self.key][0]

    @property
    def tone(self) -> str:
        return LABELS[self.key][1]

    @property
    def is_active(self) -> bool:
        return self.key == ACTIVE

    @property
    def can_set_up(self) -> bool:
        return self.key == NOT_SET_UP

    @property
    def can_continue(self) -> bool:
        """Stripe's hosted onboarding has something for the vendor to do."""
        return self.key in {ACTION_REQUIRED, RESTRICTED, VERIFYING} and self.account_id is not None

    @property
    def has_dashboard(self) -> bool:
        # Stripe opens the Express dashboard once the details were submitted.
        return self.details_submitted and self.key != DISCONNECTED


def _deadline(requirements: dict[str, Any]) -> datetime | None:
    unix = requirements.get("current_deadline")
    return datetime.fromtimestamp(unix, UTC) if unix else None


def describe(
    account: ConnectedAccount | None, onboarding: StripeOnboarding | None = None
) -> AccountState:
    """The state of a vendor's account, from its rows (None: no account)."""
    if onboarding is not None and onboarding.disconnected_at is not None:
        return AccountState(
            DISCONNECTED,
            "The Stripe account was disconnected from the marketplace, so payouts cannot be sent "
            "to it. Contact the marketplace to connect a new one.",
            account_id=account.stripe_account_id if account else onboarding.stripe_account_id,
        )
    if account is None:
        return AccountState(
            NOT_SET_UP,
            "Set up payouts with Stripe to receive your earnings: it takes a few minutes.",
        )
    requirements = account.requirements or {}
    submitted = bool(onboarding.details_submitted) if onboarding is not None else False
    common = {
        "account_id": account.stripe_account_id,
        "details_submitted": submitted,
        "deadline": _deadline(requirements),
    }
    past_due = list(requirements.get("past_due") or [])
    due = past_due + [c for c in requirements.get("currently_due") or [] if c not in past_due]
    errors = [
        f"{requirement_words(error.get('requirement', ''))}: {error.get('reason')}"
        if error.get("requirement")
        else str(error.get("reason"))
        for error in requirements.get("errors") or []
    ]
    reason = requirements.get("disabled_reason")
    if reason and reason not in ASKING_REASONS and reason != "requirements.pending_verification":
        return AccountState(
            RESTRICTED,
            DISABLED_WORDS.get(reason, f"Stripe has restricted the account ({reason})."),
            asks=_unique_words(due),
            errors=errors,
            **common,
        )
    if due or errors:
        summary = (
            "Stripe needs a few more details before it can pay you."
            if submitted
            else "Finish setting up payouts with Stripe: it still needs these details."
        )
        return AccountState(
            ACTION_REQUIRED,
            summary,
            asks=_unique_words(due),
            errors=errors,
            overdue=bool(past_due),
            **common,
        )
    transfers = (account.capabilities or {}).get("transfers")
    if account.payouts_enabled and transfers == "active":
        return AccountState(
            ACTIVE, "Payouts are on: Stripe sends your earnings to your bank.", **common
        )
    pending = requirements.get("pending_verification") or []
    if pending:
        return AccountState(
            VERIFYING,
            "Stripe is checking " + ", ".join(_unique_words(pending)) + ". Nothing to do for now.",
            **common,
        )
    return AccountState(
        VERIFYING, "Stripe is reviewing the account. Nothing to do for now.", **common
    )


def account_rows(owner: Any) -> tuple[ConnectedAccount | None, StripeOnboarding | None]:
    """The holder's (a vendor's id, a Vendor, a Driver or a ``Holder``) account and claim rows."""
    holder = Holder.of(owner)
    row = db.session.execute(
        sa.select(ConnectedAccount, StripeOnboarding)
        .select_from(sa.select(sa.literal(1).label("one")).subquery())
        .outerjoin(ConnectedAccount, holder.where(ConnectedAccount))
        .outerjoin(StripeOnboarding, holder.where(StripeOnboarding))
    ).one()
    return row[0], row[1]


def account_state(owner: Any) -> AccountState:
    """The holder's account state, read in one statement (a vendor's id, or any holder)."""
    return describe(*account_rows(owner))
