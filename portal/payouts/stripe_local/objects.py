"""Stripe-shaped objects, as the 2024-04-10 API version returns them (test mode).

Each builder returns every field of the object's schema that Stripe returns for an Express-style
connected account of a platform; tests/payouts check them against Stripe's published spec.
"""

from __future__ import annotations

from typing import Any

from .wire import new_id

API_VERSION = "2024-04-10"

# What Stripe asks a new US individual on an Express-style account before it may receive transfers.
ONBOARDING_REQUIREMENTS = (
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.address.city",
    "individual.address.line1",
    "individual.address.postal_code",
    "individual.address.state",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.email",
    "individual.first_name",
    "individual.last_name",
    "individual.phone",
    "individual.ssn_last_4",
    "tos_acceptance.date",
    "tos_acceptance.ip",
)

EXPRESS_CONTROLLER = {
    "fees": {"payer": "application"},
    "losses": {"payments": "application"},
    "requirement_collection": "stripe",
    "stripe_dashboard": {"type": "express"},
}


def requirements(due: tuple[str, ...] | list[str], *, disabled_reason: str | None) -> dict:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def account(
    *,
    created: int,
    controller: dict[str, Any],
    capabilities: list[str],
    country: str,
    email: str | None,
    default_currency: str,
    business_type: str | None,
    business_profile: dict[str, Any],
    metadata: dict[str, str],
) -> dict[str, Any]:
    account_id = new_id("acct")
    express_like = controller == EXPRESS_CONTROLLER
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": business_profile.get("mcc"),
            "monthly_estimated_revenue": {"amount": 0, "currency": default_currency},
            "name": business_profile.get("name"),
            "product_description": business_profile.get("product_description"),
            "support_address": None,
            "support_email": business_profile.get("support_email"),
            "support_phone": None,
            "support_url": None,
            "url": business_profile.get("url"),
        },
        "business_type": business_type,
        "capabilities": dict.fromkeys(capabilities, "inactive"),
        "charges_enabled": False,
        "controller": {**controller, "is_controller": True, "type": "application"},
        "country": country,
        "created": created,
        "default_currency": default_currency,
        "details_submitted": False,
        "email": email,
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "future_requirements": requirements((), disabled_reason=None),
        "metadata": metadata,
        "payouts_enabled": False,
        "requirements": requirements(
            ONBOARDING_REQUIREMENTS, disabled_reason="requirements.past_due"
        ),
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": business_profile.get("name"), "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None},
            "payments": {
                "statement_descriptor": None,
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        # Stripe names the legacy type an account's controller settings amount to.
        "type": "express" if express_like else "none",
    }


def onboarded(account_obj: dict[str, Any], *, now: int, ip: str) -> None:
    """What Stripe's hosted onboarding leaves on an account whose person filled in every field."""
    account_obj["business_type"] = account_obj["business_type"] or "individual"
    account_obj["details_submitted"] = True
    account_obj["charges_enabled"] = True
    account_obj["payouts_enabled"] = True
    account_obj["capabilities"] = dict.fromkeys(account_obj["capabilities"], "active")
    account_obj["requirements"] = requirements((), disabled_reason=None)
    account_obj["tos_acceptance"] = {"date": now, "ip": ip, "user_agent": "stripe-local"}


def capability(account_obj: dict[str, Any], name: str, *, requested_at: int) -> dict[str, Any]:
    status = account_obj["capabilities"][name]
    due = account_obj["requirements"]
    return {
        "id": name,
        "object": "capability",
        "account": account_obj["id"],
        "future_requirements": {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": [],
            "disabled_reason": None,
            "errors": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
        },
        "requested": True,
        "requested_at": requested_at,
        "requirements": {
            "alternatives": [],
            "current_deadline": due["current_deadline"],
            "currently_due": list(due["currently_due"] or []),
            "disabled_reason": due["disabled_reason"],
            "errors": list(due["errors"] or []),
            "eventually_due": list(due["eventually_due"] or []),
            "past_due": list(due["past_due"] or []),
            "pending_verification": list(due["pending_verification"] or []),
        },
        "status": status,
    }


def account_link(*, url: str, created: int, expires_at: int) -> dict[str, Any]:
    return {"object": "account_link", "created": created, "expires_at": expires_at, "url": url}


def login_link(*, url: str, created: int) -> dict[str, Any]:
    return {"object": "login_link", "created": created, "url": url}


def transfer(
    *,
    amount: int,
    currency: str,
    destination: str,
    created: int,
    description: str | None,
    transfer_group: str | None,
    metadata: dict[str, str],
) -> dict[str, Any]:
    transfer_id = new_id("tr")
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": new_id("txn"),
        "created": created,
        "currency": currency,
        "description": description,
        "destination": destination,
        "destination_payment": new_id("py"),
        "livemode": False,
        "metadata": metadata,
        "reversals": list_of([], url=f"/v1/transfers/{transfer_id}/reversals"),
        "reversed": False,
        "source_transaction": None,
        "source_type": "card",
        "transfer_group": transfer_group,
    }


def transfer_reversal(
    *, transfer_obj: dict[str, Any], amount: int, created: int, metadata: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": new_id("trr"),
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "created": created,
        "currency": transfer_obj["currency"],
        "destination_payment_refund": new_id("pyr"),
        "metadata": metadata,
        "source_refund": None,
        "transfer": transfer_obj["id"],
    }


def balance(available: dict[str, int]) -> dict[str, Any]:
    currencies = sorted(available) or ["usd"]
    return {
        "object": "balance",
        "available": [
            {
                "amount": available.get(currency, 0),
                "currency": currency,
                "source_types": {"card": available.get(currency, 0)},
            }
            for currency in currencies
        ],
        "connect_reserved": [{"amount": 0, "currency": currency} for currency in currencies],
        "livemode": False,
        "pending": [
            {"amount": 0, "currency": currency, "source_types": {"card": 0}}
            for currency in currencies
        ],
    }


def payout(
    *,
    amount: int,
    currency: str,
    created: int,
    status: str,
    failure_code: str | None,
    failure_message: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id("po"),
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": created + 2 * 86400,
        "automatic": True,
        "balance_transaction": new_id("txn"),
        "created": created,
        "currency": currency,
        "description": "STRIPE PAYOUT",
        "destination": new_id("ba"),
        "failure_balance_transaction": new_id("txn") if status == "failed" else None,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "reconciliation_status": "not_applicable",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": status,
        "type": "bank_account",
    }


def application(name: str) -> dict[str, Any]:
    return {"id": new_id("ca"), "object": "application", "name": name}


def event(
    *,
    type_: str,
    obj: dict[str, Any],
    created: int,
    account: str | None,
    previous_attributes: dict[str, Any] | None,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    event_obj: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type_,
    }
    if account:
        event_obj["account"] = account
    return event_obj


def list_of(data: list[dict[str, Any]], *, url: str, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
