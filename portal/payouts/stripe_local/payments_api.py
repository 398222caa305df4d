"""The payment endpoints of the local Stripe server: PaymentIntents (create, retrieve, confirm,
cancel), Charges (retrieve), Refunds (create by payment_intent or charge, retrieve, list). As
``api.py``: handlers take the decoded parameters and return a Stripe object or raise
``StripeError``; a parameter Stripe has but this server does not implement is refused by name.

Confirming with one of Stripe's test payment methods (``pm_card_visa`` succeeds,
``pm_card_chargeDeclined`` is declined with ``card_declined``) makes a Charge; so does the
stand-in card page (``hosted.py``). A successful charge adds its amount to the platform's
available balance (test mode, no settlement delay) and a refund takes it back.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from . import payment_objects
from .api import CURRENCY, Call, _page
from .state import Store
from .wire import StripeError, invalid_request, metadata, parse_bool, parse_int, refuse_unknown

# What Stripe allows (docs: "Metadata", "Statement descriptors").
METADATA_KEYS, METADATA_KEY_LENGTH, METADATA_VALUE_LENGTH = 50, 40, 500
SUFFIX_LENGTH = 22
SUFFIX_FORBIDDEN = re.compile(r"[<>\\'\"*]")
DESCRIPTION_LENGTH = 1000
CANCELABLE = {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
CONFIRMABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}
CANCELLATION_REASONS = {"abandoned", "duplicate", "fraudulent", "requested_by_customer"}
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


def _checked_metadata(value: Any) -> dict[str, str]:
    data = metadata(value)
    if len(data) > METADATA_KEYS:
        raise invalid_request(f"Invalid metadata: at most {METADATA_KEYS} keys", param="metadata")
    for key, item in data.items():
        if len(key) > METADATA_KEY_LENGTH:
            raise invalid_request(
                f"Invalid metadata key {key[:50]!r}: at most {METADATA_KEY_LENGTH} characters",
                param=f"metadata[{key}]",
            )
        if len(item) > METADATA_VALUE_LENGTH:
            raise invalid_request(
                f"Invalid metadata[{key}]: at most {METADATA_VALUE_LENGTH} characters",
                param=f"metadata[{key}]",
            )
    return data


def _suffix(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if (
        not isinstance(value, str)
        or len(value) > SUFFIX_LENGTH
        or SUFFIX_FORBIDDEN.search(value)
        or not re.search(r"[A-Za-z]", value)
    ):
        raise invalid_request(
            "Invalid statement_descriptor_suffix: at most 22 characters, at least one letter, "
            "none of < > \\ ' \" *",
            param="statement_descriptor_suffix",
        )
    return value


def _automatic_payment_methods(value: Any) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        raise invalid_request(
            "Invalid automatic_payment_methods: a hash", param="automatic_payment_methods"
        )
    refuse_unknown(value, {"enabled", "allow_redirects"}, prefix="automatic_payment_methods")
    enabled = parse_bool(value.get("enabled"), "automatic_payment_methods[enabled]")
    redirects = value.get("allow_redirects", "always")
    if redirects not in {"always", "never"}:
        raise invalid_request(
            "Invalid automatic_payment_methods[allow_redirects]",
            param="automatic_payment_methods[allow_redirects]",
        )
    return {"allow_redirects": redirects, "enabled": enabled}


def _missing(message: str, kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404 if param == "id" else 400,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def _unexpected_state(intent: dict[str, Any], action: str) -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        code="payment_intent_unexpected_state",
        saved=True,
    )


# --- PaymentIntents ---------------------------------------------------------------------------


def create_payment_intent(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(
        params,
        {
            "amount",
            "currency",
            "transfer_group",
            "description",
            "metadata",
            "statement_descriptor_suffix",
            "automatic_payment_methods",
            "receipt_email",
        },
    )
    for required in ("amount", "currency"):
        if params.get(required) in (None, ""):
            raise invalid_request(f"Missing required param: {required}.", param=required)
    amount = parse_int(params["amount"], "amount", minimum=50)  # Stripe's minimum: $0.50
    currency = params["currency"].lower()
    if not CURRENCY.match(currency):
        raise invalid_request(f"Invalid currency: {params['currency']}", param="currency")
    description = params.get("description") or None
    if description and len(description) > DESCRIPTION_LENGTH:
        raise invalid_request("Invalid description: too long", param="description")
    intent = payment_objects.payment_intent(
        amount=amount,
        currency=currency,
        created=store.now(),
        description=description,
        metadata=_checked_metadata(params.get("metadata")),
        statement_descriptor_suffix=_suffix(params.get("statement_descriptor_suffix")),
        transfer_group=params.get("transfer_group") or None,
        automatic_payment_methods=_automatic_payment_methods(
            params.get("automatic_payment_methods")
        ),
        receipt_email=params.get("receipt_email") or None,
    )
    store.state.payment_intents[intent["id"]] = intent
    store.emit("payment_intent.created", intent, **call.event_request())
    return intent


def intent_of(store: Store, intent_id: str, param: str = "id") -> dict[str, Any]:
    intent = store.state.payment_intents.get(intent_id)
    if intent is None:
        raise _missing("payment_intent", "payment_intent", intent_id, param)
    return intent


def retrieve_payment_intent(store: Store, call: Call, intent: str) -> dict[str, Any]:
    refuse_unknown(call.params, {"client_secret"})
    return intent_of(store, intent)


def confirm(
    store: Store,
    intent: dict[str, Any],
    payment_method: str,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Charge ``payment_method`` (a test card) for the intent: a successful charge makes it
    ``succeeded``; a declined one leaves it ``requires_payment_method`` with
    ``last_payment_error`` and raises the decline (402 ``card_error``), as Stripe does."""
    if intent["status"] not in CONFIRMABLE:
        raise _unexpected_state(intent, "confirm")
    if payment_method not in payment_objects.TEST_CARDS:
        raise invalid_request(
            f"No such PaymentMethod: '{payment_method}'; the local Stripe server knows "
            + ", ".join(sorted(payment_objects.TEST_CARDS)),
            param="payment_method",
            code="resource_missing",
        )
    decline_code = payment_objects.TEST_CARDS[payment_method]["decline_code"]
    request = {"request_id": request_id, "idempotency_key": idempotency_key}
    charge = payment_objects.charge(
        intent, payment_method=payment_method, created=store.now(), decline_code=decline_code
    )
    store.state.charges[charge["id"]] = charge
    intent["latest_charge"] = charge["id"]
    intent["payment_method"] = payment_method
    if decline_code:
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = payment_objects.last_payment_error(charge)
        store.emit("charge.failed", charge, **request)
        store.emit("payment_intent.payment_failed", intent, **request)
        raise StripeError(
            402,
            "card_error",
            payment_objects.DECLINE_MESSAGES[decline_code],
            code="card_declined",
            decline_code=decline_code,
            saved=True,
        )
    intent["status"] = "succeeded"
    intent["amount_received"] = intent["amount"]
    intent["last_payment_error"] = None
    currency = intent["currency"]
    store.state.available[currency] = store.state.available.get(currency, 0) + intent["amount"]
    store.emit("charge.succeeded", charge, **request)
    store.emit("payment_intent.succeeded", intent, **request)
    return intent


def confirm_payment_intent(store: Store, call: Call, intent: str) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"payment_method", "return_url"})
    intent_obj = intent_of(store, intent)
    if not params.get("payment_method"):
        raise invalid_request(
            "You must provide a payment_method to confirm this PaymentIntent.",
            param="payment_method",
        )
    automatic = intent_obj["automatic_payment_methods"] or {}
    if automatic.get("enabled") and automatic.get("allow_redirects") != "never":
        return_url = params.get("return_url")
        if not return_url or urlsplit(return_url).scheme not in {"http", "https"}:
            raise invalid_request(
                "This PaymentIntent is configured to accept payment methods enabled in your "
                "Dashboard. Because some of these payment methods might redirect your customer "
                "off of your page, you must provide a `return_url`.",
                param="return_url",
            )
    return confirm(
        store,
        intent_obj,
        params["payment_method"],
        request_id=call.request_id,
        idempotency_key=call.idempotency_key,
    )


def cancel_payment_intent(store: Store, call: Call, intent: str) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"cancellation_reason"})
    intent_obj = intent_of(store, intent)
    reason = params.get("cancellation_reason") or None
    if reason is not None and reason not in CANCELLATION_REASONS:
        raise invalid_request("Invalid cancellation_reason", param="cancellation_reason")
    if intent_obj["status"] not in CANCELABLE:
        raise _unexpected_state(intent_obj, "cancel")
    intent_obj["status"] = "canceled"
    intent_obj["canceled_at"] = store.now()
    intent_obj["cancellation_reason"] = reason
    store.emit("payment_intent.canceled", intent_obj, **call.event_request())
    return intent_obj


# --- Charges and Refunds ----------------------------------------------------------------------


def charge_of(store: Store, charge_id: str, param: str = "id") -> dict[str, Any]:
    charge = store.state.charges.get(charge_id)
    if charge is None:
        raise _missing("charge", "charge", charge_id, param)
    return charge


def retrieve_charge(store: Store, call: Call, charge: str) -> dict[str, Any]:
    refuse_unknown(call.params, set())
    return charge_of(store, charge)


def _charge_to_refund(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    if bool(params.get("charge")) == bool(params.get("payment_intent")):
        raise invalid_request(
            "You must pass either a charge or a payment_intent, not both or neither.",
            param="charge",
        )
    if params.get("charge"):
        charge = charge_of(store, params["charge"], param="charge")
    else:
        intent = intent_of(store, params["payment_intent"], param="payment_intent")
        if intent["status"] != "succeeded":
            raise invalid_request(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge = store.state.charges[intent["latest_charge"]]
    if charge["status"] != "succeeded":
        raise invalid_request(
            f"Charge {charge['id']} has not succeeded and cannot be refunded.", param="charge"
        )
    return charge


def create_refund(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"charge", "payment_intent", "amount", "metadata", "reason"})
    charge = _charge_to_refund(store, params)
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining == 0:
        raise StripeError(
            400,
            "invalid_request_error",
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
            saved=True,
        )
    chargebacks = {"needs_response", "under_review"}  # an inquiry still allows a refund
    if any(
        dispute["charge"] == charge["id"] and dispute["status"] in chargebacks
        for dispute in store.state.disputes.values()
    ):
        raise StripeError(
            400,
            "invalid_request_error",
            f"Charge {charge['id']} has been charged back; it cannot be refunded.",
            code="charge_disputed",
            saved=True,
        )
    amount = parse_int(params.get("amount", remaining), "amount", minimum=1)
    if amount > remaining:
        raise StripeError(
            400,
            "invalid_request_error",
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
            saved=True,
        )
    reason = params.get("reason") or None
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid_request("Invalid reason", param="reason")
    refund = payment_objects.refund(
        charge,
        amount=amount,
        created=store.now(),
        metadata=_checked_metadata(params.get("metadata")),
        reason=reason,
    )
    store.state.refunds[refund["id"]] = refund
    before = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    currency = charge["currency"]
    store.state.available[currency] = store.state.available.get(currency, 0) - amount
    previous = {key: value for key, value in before.items() if charge[key] != value}
    store.emit("charge.refunded", charge, previous=previous, **call.event_request())
    return refund


def retrieve_refund(store: Store, call: Call, refund: str) -> dict[str, Any]:
    refuse_unknown(call.params, set())
    refund_obj = store.state.refunds.get(refund)
    if refund_obj is None:
        raise _missing("refund", "refund", refund)
    return refund_obj


def list_refunds(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"charge", "payment_intent", "limit", "starting_after", "ending_before"})
    filters = {key: params[key] for key in ("charge", "payment_intent") if key in params}
    items = [
        refund
        for refund in reversed(store.state.refunds.values())
        if all(refund[key] == value for key, value in filters.items())
    ]
    return _page(items, params, "/v1/refunds")


# --- Disputes (opened and closed through the control API: only a card holder's bank does) ----


def open_dispute(
    store: Store, charge: dict[str, Any], *, amount: int | None, reason: str, inquiry: bool
) -> dict[str, Any]:
    if charge["status"] != "succeeded":
        raise invalid_request(f"Charge {charge['id']} has not succeeded", param="charge")
    amount = charge["amount"] - charge["amount_refunded"] if amount is None else amount
    if not 0 < amount <= charge["amount"]:
        raise invalid_request("amount is between 1 and the charge's amount", param="amount")
    dispute = payment_objects.dispute(
        charge, amount=amount, reason=reason, created=store.now(), inquiry=inquiry
    )
    store.state.disputes[dispute["id"]] = dispute
    before = copy.deepcopy(charge)
    charge["disputed"] = True
    if not inquiry:
        currency = charge["currency"]
        store.state.available[currency] = store.state.available.get(currency, 0) - amount
    store.emit("charge.dispute.created", dispute)
    store.emit("charge.updated", charge, previous={"disputed": before["disputed"]})
    return dispute


def close_dispute(store: Store, dispute: dict[str, Any], *, won: bool) -> dict[str, Any]:
    """What the bank decided: an inquiry closes as ``warning_closed``, a chargeback as ``won``
    (the money comes back) or ``lost``."""
    if dispute["status"] in {"won", "lost", "warning_closed"}:
        raise invalid_request(f"Dispute {dispute['id']} is closed already", param="dispute")
    inquiry = dispute["status"].startswith("warning_")
    dispute["status"] = "warning_closed" if inquiry else ("won" if won else "lost")
    if dispute["status"] == "won":
        charge = store.state.charges[dispute["charge"]]
        currency = charge["currency"]
        store.state.available[currency] = store.state.available.get(currency, 0) + dispute["amount"]
    store.emit("charge.dispute.closed", dispute)
    return dispute


ROUTES = (
    ("POST", "/v1/payment_intents", create_payment_intent),
    ("GET", "/v1/payment_intents/<intent>", retrieve_payment_intent),
    ("POST", "/v1/payment_intents/<intent>/confirm", confirm_payment_intent),
    ("POST", "/v1/payment_intents/<intent>/cancel", cancel_payment_intent),
    ("GET", "/v1/charges/<charge>", retrieve_charge),
    ("POST", "/v1/refunds", create_refund),
    ("GET", "/v1/refunds", list_refunds),
    ("GET", "/v1/refunds/<refund>", retrieve_refund),
)
