"""The external provider's status webhooks: ``POST /webhooks/doordash`` (docs/deliveries.md).

DoorDash does not sign its webhooks: it sends, in the ``Authorization`` header, the value
configured for the endpoint in its portal (``DOORDASH_WEBHOOK_AUTHORIZATION``), compared in
constant time; anything else is a 401 and changes nothing. Authenticated by that header, not a
session: exempt from CSRF, no sign-in.

Each event is kept once (``provider_events``) in the same transaction as what it changed, so a
replay answers 200 and changes nothing; late and out-of-order events never move a delivery
backwards (``states.apply_reported``); unknown events and deliveries are kept and answered 200,
so DoorDash does not retry them.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import DataError

from ...extensions import csrf, db
from ...inputs import load_json, reads_raw_body
from ...orders.webhooks import read_body
from . import provider
from .services import apply_report

bp = Blueprint("provider_webhooks", __name__)

MAX_BODY_BYTES = 256 * 1024


def _error(status: int, reason: str):
    return jsonify(error=reason), status


@bp.post("/webhooks/doordash")
@csrf.exempt
@reads_raw_body
def doordash():
    gateway = provider("doordash")
    if not gateway.webhook_authorized(request.headers.get("Authorization")):
        return _error(401, "the Authorization header is not the one configured for DoorDash")
    raw = read_body(MAX_BODY_BYTES)
    if raw is None:
        return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        event = load_json(raw)
        if not isinstance(event, dict):
            return _error(400, "not an event: the body is not a JSON object")
        report = gateway.report(event)
    except (ValueError, UnicodeDecodeError) as error:
        return _error(400, f"not a DoorDash event: {error}")
    try:
        outcome = apply_report(report, "doordash")
        db.session.commit()
    except DataError as error:
        db.session.rollback()
        return _error(400, f"malformed {report.event_name} event: {type(error).__name__}")
    except Exception:
        db.session.rollback()
        raise
    return jsonify(status=outcome), 200
