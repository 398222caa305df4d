"""The control API (``/_control/...``, JSON): what tests and the demo do to the server that
Stripe's own API cannot, such as arming faults, setting the platform balance, moving the clock,
and reading the server's own record of transfers. Not part of Stripe; loopback only."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from . import objects, payments_api
from .state import FAULTS, Fault
from .webhooks import CONNECT, PLATFORM, Endpoint
from .wire import StripeError

bp = Blueprint("control", __name__, url_prefix="/_control")

ACCOUNT_FIELDS = {"charges_enabled", "payouts_enabled", "details_submitted", "capabilities"}
REQUIREMENT_FIELDS = {
    "currently_due",
    "eventually_due",
    "past_due",
    "pending_verification",
    "errors",
    "disabled_reason",
    "current_deadline",
}


def _local():
    return current_app.extensions["stripe_local"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        abort(400, "a JSON object")
    return body


def _bad(message: str):
    response = jsonify({"error": message})
    response.status_code = 400
    return response


@bp.post("/reset")
def reset():
    """Forget every object, event, key and fault (the webhook endpoints stay)."""
    _local().store.reset()
    return jsonify({"ok": True})


@bp.get("/faults")
def faults():
    return jsonify([vars(fault) for fault in _local().store.state.faults])


@bp.post("/faults")
def arm_fault():
    """``{"method": "POST", "path": "/v1/transfers", "fault": "rate_limit", "times": 2}``."""
    body = _body()
    kind = body.get("fault")
    if kind not in FAULTS:
        return _bad(f"fault must be one of {', '.join(sorted(FAULTS))}")
    times, status = body.get("times", 1), body.get("status", 500)
    if not isinstance(times, int) or times < 1 or status not in (500, 502, 503, 504):
        return _bad("times is a positive integer; status one of 500, 502, 503, 504")
    method = str(body.get("method", "POST")).upper()
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/v1/"):
        return _bad("path is the request path, e.g. /v1/transfers")
    fault = Fault(method=method, path=path, kind=kind, times=times, status=status)
    _local().store.arm(fault)
    response = jsonify(vars(fault))
    response.status_code = 201
    return response


@bp.delete("/faults")
def clear_faults():
    with _local().store.lock:
        _local().store.state.faults.clear()
    return jsonify({"ok": True})


@bp.get("/balance")
def balance():
    return jsonify(objects.balance(_local().store.state.available))


@bp.post("/balance")
def set_balance():
    """``{"currency": "usd", "available": 150000}`` sets the platform's available balance;
    ``{"add": 5000}`` tops it up. Either sends ``balance.available``, as a top-up does."""
    body = _body()
    currency = body.get("currency", "usd")
    store = _local().store
    with store.lock:
        if isinstance(body.get("available"), int) and body["available"] >= 0:
            store.state.available[currency] = body["available"]
        elif isinstance(body.get("add"), int) and body["add"] > 0:
            store.state.available[currency] = store.state.available.get(currency, 0) + body["add"]
        else:
            return _bad("give available (cents, >= 0) or add (cents, > 0)")
        balance_obj = objects.balance(store.state.available)
        store.emit("balance.available", balance_obj)
    return jsonify(balance_obj)


@bp.get("/transfers")
def transfers():
    """Every transfer the server made, oldest first, with the idempotency key that made it."""
    store = _local().store
    with store.lock:
        return jsonify(
            {
                "log": copy.deepcopy(store.state.transfer_log),
                "transfers": list(store.state.transfers.values()),
            }
        )


@bp.post("/clock")
def clock():
    """``{"advance_seconds": 86400}``: the server's clock moves on (idempotency keys expire)."""
    seconds = _body().get("advance_seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        return _bad("advance_seconds is a number >= 0")
    return jsonify({"now": _local().store.advance(seconds)})


@bp.post("/webhooks")
def webhooks():
    """``{"platform": {"url": ..., "secret": ...}, "connect": {...}}``; null removes one."""
    body = _body()
    endpoints = _local().outbox.endpoints
    for name in (PLATFORM, CONNECT):
        if name not in body:
            continue
        if body[name] is None:
            endpoints.pop(name, None)
        elif isinstance(body[name], dict) and {"url", "secret"} <= body[name].keys():
            endpoints[name] = Endpoint(url=body[name]["url"], secret=body[name]["secret"])
        else:
            return _bad(f"{name} needs url and secret")
    return jsonify({name: endpoint.url for name, endpoint in endpoints.items()})


@bp.get("/events")
def events():
    local = _local()
    with local.store.lock:
        return jsonify(
            [
                {
                    "event": event,
                    "deliveries": [
                        vars(delivery) for delivery in local.outbox.deliveries.get(event["id"], [])
                    ],
                }
                for event in local.store.state.events
            ]
        )


@bp.post("/events/wait")
def wait_for_deliveries():
    """Answers once every event so far was delivered (or ``timeout`` seconds passed)."""
    timeout = _body().get("timeout", 10)
    delivered = _local().outbox.wait_idle(float(timeout))
    return jsonify({"delivered": delivered}), (200 if delivered else 504)


@bp.post("/events/<event_id>/resend")
def resend(event_id: str):
    """Delivers an event again, as Stripe retries or the dashboard resends one."""
    local = _local()
    for event in local.store.state.events:
        if event["id"] == event_id:
            local.outbox.send(event)
            return jsonify({"ok": True})
    abort(404)


def _account(account_id: str) -> dict[str, Any]:
    account_obj = _local().store.state.accounts.get(account_id)
    if account_obj is None:
        abort(404)
    return account_obj


@bp.post("/accounts/<account_id>")
def update_account(account_id: str):
    """Set what only Stripe decides: ``charges_enabled``, ``payouts_enabled``,
    ``details_submitted``, ``capabilities`` (``{"transfers": "active"}``) and ``requirements``
    (``currently_due``, ``past_due``, ``errors``, ``disabled_reason``, ``current_deadline``, ...).
    Sends ``account.updated`` (and ``capability.updated``) on the connected account."""
    body = _body()
    unknown = set(body) - ACCOUNT_FIELDS - {"requirements"}
    unknown |= set(body.get("requirements") or {}) - REQUIREMENT_FIELDS
    if unknown:
        return _bad(f"unknown fields: {', '.join(sorted(unknown))}")
    store = _local().store
    with store.lock:
        account_obj = _account(account_id)
        before = copy.deepcopy(account_obj)
        for key in ACCOUNT_FIELDS & body.keys():
            if key == "capabilities":
                account_obj["capabilities"].update(body["capabilities"])
            else:
                account_obj[key] = bool(body[key])
        account_obj["requirements"].update(body.get("requirements") or {})
        store.account_changed(account_obj, before)
        return jsonify(account_obj)


@bp.post("/accounts/<account_id>/complete_onboarding")
def complete_onboarding(account_id: str):
    """What the hosted onboarding page's button does, without a browser."""
    store = _local().store
    with store.lock:
        account_obj = _account(account_id)
        before = copy.deepcopy(account_obj)
        objects.onboarded(account_obj, now=store.now(), ip=request.remote_addr or "127.0.0.1")
        store.account_changed(account_obj, before)
        return jsonify(account_obj)


@bp.post("/accounts/<account_id>/payouts")
def payout(account_id: str):
    """A payout from the connected account to its bank: ``{"amount": 1000, "status": "paid"}``
    or ``"failed"`` (with ``failure_code``). Sends ``payout.created`` and ``payout.paid`` or
    ``payout.failed`` on the connected account."""
    body = _body()
    status = body.get("status", "paid")
    amount = body.get("amount")
    if status not in {"paid", "failed"} or not isinstance(amount, int) or amount < 1:
        return _bad("amount (cents, > 0) and status paid or failed")
    failure_code = body.get("failure_code", "account_closed") if status == "failed" else None
    store = _local().store
    with store.lock:
        _account(account_id)
        payout_obj = objects.payout(
            amount=amount,
            currency=body.get("currency", "usd"),
            created=store.now(),
            status=status,
            failure_code=failure_code,
            failure_message="The bank account has been closed." if failure_code else None,
        )
        store.state.payouts[payout_obj["id"]] = payout_obj
        store.emit("payout.created", {**payout_obj, "status": "pending"}, account=account_id)
        store.emit(f"payout.{status}", payout_obj, account=account_id)
        return jsonify(payout_obj)


@bp.post("/accounts/<account_id>/deauthorize")
def deauthorize(account_id: str):
    """The account disconnects from the platform: ``account.application.deauthorized``."""
    store = _local().store
    with store.lock:
        _account(account_id)
        event = store.emit(
            "account.application.deauthorized",
            objects.application("Marketplace Portal"),
            account=account_id,
        )
        return jsonify(event)


@bp.post("/charges/<charge_id>/dispute")
def dispute_charge(charge_id: str):
    """The card holder's bank disputes a charge: ``{"amount": cents (default what is left),
    "reason": "fraudulent", "inquiry": false}``. Sends ``charge.dispute.created``."""
    body = _body()
    amount = body.get("amount")
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
        return _bad("amount is a number of cents")
    reason = body.get("reason", "fraudulent")
    if not isinstance(reason, str) or not reason:
        return _bad("reason is one of Stripe's dispute reasons, e.g. fraudulent")
    store = _local().store
    with store.lock:
        charge = store.state.charges.get(charge_id)
        if charge is None:
            abort(404)
        try:
            dispute = payments_api.open_dispute(
                store, charge, amount=amount, reason=reason, inquiry=bool(body.get("inquiry"))
            )
        except StripeError as error:
            return _bad(error.message)
        return jsonify(dispute)


@bp.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id: str):
    """The bank's decision: ``{"status": "won"}`` or ``{"status": "lost"}`` (an inquiry closes
    as ``warning_closed`` either way). Sends ``charge.dispute.closed``."""
    status = _body().get("status")
    if status not in {"won", "lost"}:
        return _bad("status is won or lost")
    store = _local().store
    with store.lock:
        dispute = store.state.disputes.get(dispute_id)
        if dispute is None:
            abort(404)
        try:
            payments_api.close_dispute(store, dispute, won=status == "won")
        except StripeError as error:
            return _bad(error.message)
        return jsonify(dispute)


@bp.get("/payment_intents")
def payment_intents():
    """Every PaymentIntent as the server has it, oldest first (what reached Stripe)."""
    store = _local().store
    with store.lock:
        return jsonify(copy.deepcopy(list(store.state.payment_intents.values())))
