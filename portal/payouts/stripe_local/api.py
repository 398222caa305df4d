"""The Stripe API endpoints the portal uses: accounts, account and login links, transfers and
their reversals, balance. Each handler takes the decoded parameters and returns a Stripe object
or raises ``StripeError``; ``app.py`` does the HTTP around them (auth, idempotency, faults).

A parameter Stripe has but this server does not implement is refused with a 400 that says so,
rather than silently ignored.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import objects
from .state import AccountLinkRecord, Store
from .wire import (
    StripeError,
    invalid_request,
    metadata,
    parse_bool,
    parse_int,
    refuse_unknown,
)

ACCOUNT_LINK_SECONDS = 300
CURRENCY = re.compile(r"^[a-z]{3}$")
BALANCE_INSUFFICIENT_MESSAGE = (
    "You have insufficient available funds in your Stripe account. Try adding funds directly to "
    "your available balance by creating Charges using the 4000000000000077 test card. See: "
    "https://stripe.com/docs/testing#available-balance"
)


def balance_insufficient() -> StripeError:
    return StripeError(
        400,
        "invalid_request_error",
        BALANCE_INSUFFICIENT_MESSAGE,
        code="balance_insufficient",
        saved=True,
    )


def card_declined() -> StripeError:
    return StripeError(
        402,
        "card_error",
        "Your card was declined.",
        code="card_declined",
        decline_code="generic_decline",
        saved=True,
    )


@dataclass
class Call:
    params: dict[str, Any]
    request_id: str
    idempotency_key: str | None
    public_url: str

    def event_request(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "idempotency_key": self.idempotency_key}


# --- accounts ---------------------------------------------------------------------------------


def _controller(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_request("Invalid controller: a hash", param="controller")
    refuse_unknown(
        value, {"fees", "losses", "requirement_collection", "stripe_dashboard"}, prefix="controller"
    )
    choices = {
        ("fees", "payer"): {"account", "application"},
        ("losses", "payments"): {"application", "stripe"},
        ("stripe_dashboard", "type"): {"express", "full", "none"},
    }
    controller: dict[str, Any] = {}
    for (group, key), allowed in choices.items():
        if group in value:
            refuse_unknown(value[group], {key}, prefix=f"controller[{group}]")
            chosen = value[group].get(key)
            if chosen not in allowed:
                raise invalid_request(
                    f"Invalid controller[{group}][{key}]: "
                    f"must be one of {', '.join(sorted(allowed))}",
                    param=f"controller[{group}][{key}]",
                )
            controller[group] = {key: chosen}
    controller.setdefault("fees", {"payer": "account"})
    controller.setdefault("losses", {"payments": "stripe"})
    controller.setdefault("stripe_dashboard", {"type": "full"})
    collection = value.get("requirement_collection", "stripe")
    if collection not in {"application", "stripe"}:
        raise invalid_request(
            "Invalid controller[requirement_collection]", param="controller[requirement_collection]"
        )
    if collection == "application" and controller["stripe_dashboard"]["type"] != "none":
        raise invalid_request(
            "controller[requirement_collection]=application needs "
            "controller[stripe_dashboard][type]=none",
            param="controller[requirement_collection]",
        )
    controller["requirement_collection"] = collection
    return {key: controller[key] for key in sorted(controller)}


def _requested_capabilities(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, dict):
        raise invalid_request("Invalid capabilities: a hash", param="capabilities")
    refuse_unknown(value, {"transfers", "card_payments"}, prefix="capabilities")
    requested = []
    for name, settings in value.items():
        if not isinstance(settings, dict):
            raise invalid_request("Invalid capabilities", param=f"capabilities[{name}]")
        refuse_unknown(settings, {"requested"}, prefix=f"capabilities[{name}]")
        if parse_bool(settings.get("requested"), f"capabilities[{name}][requested]"):
            requested.append(name)
    return sorted(requested)


def _business_profile(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid_request("Invalid business_profile: a hash", param="business_profile")
    refuse_unknown(
        value,
        {"mcc", "name", "product_description", "support_email", "url"},
        prefix="business_profile",
    )
    return dict(value)


def create_account(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(
        params,
        {
            "type",
            "controller",
            "capabilities",
            "country",
            "email",
            "metadata",
            "business_profile",
            "business_type",
            "default_currency",
        },
    )
    if "type" in params and "controller" in params:
        raise invalid_request(
            "You cannot specify both `type` and `controller`: controller settings replace the "
            "account type.",
            param="type",
        )
    if "type" in params:
        legacy = {"express": objects.EXPRESS_CONTROLLER}
        if params["type"] not in legacy:
            raise invalid_request(
                "The local Stripe server makes only Express-style accounts", param="type"
            )
        controller = legacy[params["type"]]
    else:
        controller = _controller(params.get("controller", {}))
    business_type = params.get("business_type")
    if business_type not in (None, "individual", "company", "non_profit", "government_entity"):
        raise invalid_request("Invalid business_type", param="business_type")
    country = params.get("country", "US")
    currency = params.get("default_currency", "usd")
    if not CURRENCY.match(currency):
        raise invalid_request("Invalid currency", param="default_currency")
    account_obj = objects.account(
        created=store.now(),
        controller=controller,
        capabilities=_requested_capabilities(params.get("capabilities")),
        country=country,
        email=params.get("email"),
        default_currency=currency,
        business_type=business_type,
        business_profile=_business_profile(params.get("business_profile")),
        metadata=metadata(params.get("metadata")),
    )
    store.state.accounts[account_obj["id"]] = account_obj
    return account_obj


def _account(store: Store, account_id: str, param: str = "account") -> dict[str, Any]:
    account_obj = store.state.accounts.get(account_id)
    if account_obj is None:
        raise StripeError(
            404 if param == "id" else 400,
            "invalid_request_error",
            f"No such account: '{account_id}'",
            code="resource_missing",
            param=param,
        )
    return account_obj


def retrieve_account(store: Store, call: Call, account: str) -> dict[str, Any]:
    refuse_unknown(call.params, set())
    return _account(store, account, param="id")


def update_account(store: Store, call: Call, account: str) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"email", "metadata", "business_profile", "capabilities"})
    account_obj = _account(store, account, param="id")
    before = copy.deepcopy(account_obj)
    if "email" in params:
        account_obj["email"] = params["email"] or None
    if "metadata" in params:
        merged = {**account_obj["metadata"], **(params["metadata"] or {})}
        account_obj["metadata"] = metadata(merged)
    if "business_profile" in params:
        account_obj["business_profile"].update(_business_profile(params["business_profile"]))
    for name in _requested_capabilities(params.get("capabilities")):
        account_obj["capabilities"].setdefault(name, "inactive")
    store.account_changed(account_obj, before, **call.event_request())
    return account_obj


def _http_url(value: Any, param: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in {"http", "https"}:
        raise invalid_request(f"Invalid URL: {param} must be an http(s) URL", param=param)
    return value


def create_account_link(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"account", "type", "refresh_url", "return_url", "collect"})
    for required in ("account", "type"):
        if not params.get(required):
            raise invalid_request(f"Missing required param: {required}.", param=required)
    account_obj = _account(store, params["account"])
    if params["type"] not in {"account_onboarding", "account_update"}:
        raise invalid_request("Invalid type", param="type")
    if (
        params["type"] == "account_update"
        and account_obj["controller"]["requirement_collection"] == "stripe"
    ):
        raise invalid_request(
            "account_update links are only for accounts whose requirements the platform "
            "collects; use account_onboarding.",
            param="type",
        )
    if params.get("collect", "currently_due") not in {"currently_due", "eventually_due"}:
        raise invalid_request("Invalid collect", param="collect")
    token = secrets.token_urlsafe(24)
    created = store.now()
    store.state.account_links[token] = AccountLinkRecord(
        account=account_obj["id"],
        refresh_url=_http_url(params.get("refresh_url"), "refresh_url"),
        return_url=_http_url(params.get("return_url"), "return_url"),
        expires_at=created + ACCOUNT_LINK_SECONDS,
    )
    return objects.account_link(
        url=f"{call.public_url}/setup/e/{token}",
        created=created,
        expires_at=created + ACCOUNT_LINK_SECONDS,
    )


def create_login_link(store: Store, call: Call, account: str) -> dict[str, Any]:
    refuse_unknown(call.params, set())
    account_obj = _account(store, account)
    if account_obj["controller"]["stripe_dashboard"]["type"] != "express":
        raise invalid_request(
            "Cannot create a login link for an account that does not use the Express Dashboard.",
            param="account",
        )
    return objects.login_link(url=f"{call.public_url}/express/{account}", created=store.now())


# --- transfers --------------------------------------------------------------------------------


def create_transfer(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(
        params, {"amount", "currency", "destination", "transfer_group", "metadata", "description"}
    )
    for required in ("amount", "currency", "destination"):
        if params.get(required) in (None, ""):
            raise invalid_request(f"Missing required param: {required}.", param=required)
    amount = parse_int(params["amount"], "amount", minimum=1)
    currency = params["currency"].lower()
    if not CURRENCY.match(currency):
        raise invalid_request(f"Invalid currency: {params['currency']}", param="currency")
    destination = store.state.accounts.get(params["destination"])
    if destination is None:
        raise invalid_request(
            f"No such destination: '{params['destination']}'",
            param="destination",
            code="resource_missing",
        )
    if destination["capabilities"].get("transfers") != "active":
        raise StripeError(
            400,
            "invalid_request_error",
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
            saved=True,
        )
    if store.state.available.get(currency, 0) < amount:
        raise balance_insufficient()
    store.state.available[currency] -= amount
    transfer_obj = objects.transfer(
        amount=amount,
        currency=currency,
        destination=destination["id"],
        created=store.now(),
        description=params.get("description"),
        transfer_group=params.get("transfer_group") or None,
        metadata=metadata(params.get("metadata")),
    )
    store.state.transfers[transfer_obj["id"]] = transfer_obj
    store.state.transfer_log.append(
        {
            "id": transfer_obj["id"],
            "amount": amount,
            "currency": currency,
            "destination": destination["id"],
            "transfer_group": transfer_obj["transfer_group"],
            "metadata": dict(transfer_obj["metadata"]),
            "idempotency_key": call.idempotency_key,
            "created": transfer_obj["created"],
        }
    )
    store.emit("transfer.created", transfer_obj, **call.event_request())
    return transfer_obj


def _transfer(store: Store, transfer_id: str) -> dict[str, Any]:
    transfer_obj = store.state.transfers.get(transfer_id)
    if transfer_obj is None:
        raise StripeError(
            404,
            "invalid_request_error",
            f"No such transfer: '{transfer_id}'",
            code="resource_missing",
            param="id",
        )
    return transfer_obj


def retrieve_transfer(store: Store, call: Call, transfer: str) -> dict[str, Any]:
    refuse_unknown(call.params, set())
    return _transfer(store, transfer)


def _page(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """Stripe's cursor pagination over newest-first ``items``."""
    limit = parse_int(params.get("limit", 10), "limit", minimum=1)
    if limit > 100:
        raise invalid_request("Invalid limit: must be at most 100", param="limit")
    ids = [item["id"] for item in items]
    if params.get("starting_after"):
        if params["starting_after"] not in ids:
            raise invalid_request("Invalid starting_after", param="starting_after")
        items = items[ids.index(params["starting_after"]) + 1 :]
        page = items[:limit]
    elif params.get("ending_before"):
        if params["ending_before"] not in ids:
            raise invalid_request("Invalid ending_before", param="ending_before")
        items = items[: ids.index(params["ending_before"])]
        page = items[-limit:]
    else:
        page = items[:limit]
    return objects.list_of(page, url=url, has_more=len(items) > len(page))


def list_transfers(store: Store, call: Call) -> dict[str, Any]:
    params = call.params
    refuse_unknown(
        params, {"transfer_group", "destination", "limit", "starting_after", "ending_before"}
    )
    filters = {key: params[key] for key in ("transfer_group", "destination") if key in params}
    items = [
        transfer_obj
        for transfer_obj in reversed(store.state.transfers.values())
        if all(transfer_obj[key] == value for key, value in filters.items())
    ]
    return _page(items, params, "/v1/transfers")


def create_transfer_reversal(store: Store, call: Call, transfer: str) -> dict[str, Any]:
    params = call.params
    refuse_unknown(params, {"amount", "metadata", "description"})
    transfer_obj = _transfer(store, transfer)
    remaining = transfer_obj["amount"] - transfer_obj["amount_reversed"]
    amount = parse_int(params.get("amount", remaining), "amount", minimum=1)
    if amount > remaining:
        raise invalid_request(
            f"Transfer {transfer} has only {remaining} left to reverse; {amount} was asked.",
            param="amount",
        )
    reversal = objects.transfer_reversal(
        transfer_obj=transfer_obj,
        amount=amount,
        created=store.now(),
        metadata=metadata(params.get("metadata")),
    )
    before_reversed = transfer_obj["amount_reversed"]
    transfer_obj["amount_reversed"] += amount
    transfer_obj["reversed"] = transfer_obj["amount_reversed"] == transfer_obj["amount"]
    reversals = transfer_obj["reversals"]
    reversals["data"].insert(0, reversal)
    store.state.available[transfer_obj["currency"]] = (
        store.state.available.get(transfer_obj["currency"], 0) + amount
    )
    store.emit(
        "transfer.reversed",
        transfer_obj,
        previous={"amount_reversed": before_reversed},
        **call.event_request(),
    )
    return reversal


def list_transfer_reversals(store: Store, call: Call, transfer: str) -> dict[str, Any]:
    refuse_unknown(call.params, {"limit", "starting_after", "ending_before"})
    transfer_obj = _transfer(store, transfer)
    url = f"/v1/transfers/{transfer}/reversals"
    return _page(transfer_obj["reversals"]["data"], call.params, url)


def retrieve_balance(store: Store, call: Call) -> dict[str, Any]:
    refuse_unknown(call.params, set())
    return objects.balance(store.state.available)


# method, URL rule, handler. Faults name the request path (e.g. POST /v1/transfers).
ROUTES = (
    ("POST", "/v1/accounts", create_account),
    ("GET", "/v1/accounts/<account>", retrieve_account),
    ("POST", "/v1/accounts/<account>", update_account),
    ("POST", "/v1/account_links", create_account_link),
    ("POST", "/v1/accounts/<account>/login_links", create_login_link),
    ("POST", "/v1/transfers", create_transfer),
    ("GET", "/v1/transfers", list_transfers),
    ("GET", "/v1/transfers/<transfer>", retrieve_transfer),
    ("POST", "/v1/transfers/<transfer>/reversals", create_transfer_reversal),
    ("GET", "/v1/transfers/<transfer>/reversals", list_transfer_reversals),
    ("GET", "/v1/balance", retrieve_balance),
)
