"""``POST /webhooks/points/holds`` and ``…/holds/release``: an outside storefront sets a customer's
points aside before it places an order, and lets them go (docs/webhooks.md, "Points holds").

Signed exactly like the order webhook (``Portal-Signature`` over the raw body, the same secret and
tolerance), so no session and no CSRF token. A hold request carries the storefront's own ``id``:
the hold's reference is derived from it, so a retried request finds the hold it made instead of
holding the points twice.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, jsonify
from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError

from ..auth import services as accounts
from ..customers.services import customer_for_user
from ..extensions import csrf, db
from ..inputs import UnsafeInput, fit_integer, load_json, reads_raw_body
from ..orders.webhooks import MalformedEvent, signed_body
from . import points, rules
from .models import PointsHold

bp = Blueprint("points_api", __name__, url_prefix="/webhooks/points")

MAX_BODY_BYTES = 16 * 1024
ID_LIMIT = 255


def _error(status: int, reason: str):
    return jsonify(error=reason), status


def _signed_body():
    """The verified JSON object of the request, or an error answer."""
    raw, refused = signed_body(MAX_BODY_BYTES)
    if refused is not None:
        return None, refused
    try:
        body = load_json(raw)
    except (ValueError, UnicodeDecodeError) as error:
        reason = str(error) if isinstance(error, UnsafeInput) else "body is not valid JSON"
        return None, _error(400, reason)
    if not isinstance(body, dict):
        return None, _error(400, "body must be a JSON object")
    return body, None


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"{key} must be a non-empty string")
    if len(value) > ID_LIMIT:
        raise MalformedEvent(f"{key} is longer than {ID_LIMIT} characters")
    return value.strip()


def reference_for(request_id: str) -> str:
    """The hold reference of a storefront's request id: the same id, the same hold."""
    return "ph_" + hashlib.sha256(f"webhook:{request_id}".encode()).hexdigest()[:40]


def _answer(hold: PointsHold, status: int):
    return jsonify(
        hold=hold.reference,
        points=hold.points,
        value=str(rules.points_value(hold.points)),
        expires_at=hold.expires_at.isoformat(),
    ), status


@bp.post("/holds")
@csrf.exempt
@reads_raw_body
def hold_points():
    body, refused = _signed_body()
    if refused:
        return refused
    try:
        request_id = _text(body, "id")
        email = _text(body, "customer_email").lower()
        amount = body.get("points")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise MalformedEvent("points must be a whole number above zero")
        fit_integer(amount, PointsHold.__table__.c.points)
    except (MalformedEvent, UnsafeInput) as error:
        return _error(400, f"points {error}" if isinstance(error, UnsafeInput) else str(error))
    user = accounts.find_user_by_email(email)
    customer = customer_for_user(user) if user is not None else None
    if customer is None:
        return _error(404, "no customer has this email, so there are no points to hold")
    reference = reference_for(request_id)
    existing = points.find_hold(reference)
    if existing is not None:
        if existing.customer_id != customer.id or existing.points != amount:
            return _error(409, f"hold id {request_id} was used for another customer or amount")
        return _answer(existing, 200)
    try:
        hold = points.hold_external(customer.id, amount, reference=reference)
        db.session.commit()
    except points.NotEnoughPoints as error:
        db.session.rollback()
        return _error(409, str(error))
    except points.PointsError as error:
        db.session.rollback()
        return _error(400, str(error))
    except IntegrityError as error:
        db.session.rollback()
        if isinstance(error.orig, pg_errors.UniqueViolation):
            return _error(409, "a concurrent request made this hold; retry")
        raise
    return _answer(hold, 201)


@bp.post("/holds/release")
@csrf.exempt
@reads_raw_body
def release_points():
    body, refused = _signed_body()
    if refused:
        return refused
    try:
        reference = _text(body, "hold")
    except MalformedEvent as error:
        return _error(400, str(error))
    try:
        hold = points.release_hold(reference)
        db.session.commit()
    except points.UnknownHold as error:
        db.session.rollback()
        return _error(404, str(error))
    except points.PointsError as error:
        db.session.rollback()
        return _error(409, str(error))
    return jsonify(status="released", hold=hold.reference, points=hold.points), 200
