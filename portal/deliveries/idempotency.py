"""Driver requests that must happen once however often a phone with poor signal sends them.

A status change from the driver's phone (go online, accept, the next step, proof) is queued by
``static/js/driver_outbox.js`` and sent with an ``Idempotency-Key``; a dropped connection makes it
send again, with the same key. The first request claims the key in the same transaction as its
effect; its response is kept, and a repeat gets that response back without running the view again.
Pings are not here: they may be dropped (portal/deliveries/positions.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import wraps

import sqlalchemy as sa
from flask import abort, make_response, request
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from .models import DriverRequest

KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
REPLAYED = "Idempotent-Replayed"
# The effect committed but its response was never kept (the process died in between): the
# script reloads the page, which shows the state the request left.
RELOAD = "X-Outbox-Reload"


def once_per_key(current_driver):
    """Decorate a driver's POST view so a repeat of the same ``Idempotency-Key`` replays the
    first response. ``current_driver()`` gives the signed-in driver (keys are per driver)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return view(*args, **kwargs)
            if not KEY.fullmatch(key):
                abort(400, description="Idempotency-Key must be 8 to 64 letters, digits, - or _.")
            driver_id = current_driver().id
            claimed = _claim(driver_id, key)
            if claimed is not None:
                return claimed
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 500:
                return response
            _keep(driver_id, key, response)
            return response

        return wrapper

    return decorate


def _claim(driver_id, key):
    """Claim the key for this request, or return the response a repeat gets."""
    stored = db.session.get(DriverRequest, (driver_id, key))
    if stored is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    DriverRequest(
                        driver_id=driver_id,
                        idempotency_key=key,
                        endpoint=request.endpoint,
                        created_at=utcnow(),
                    )
                )
            return None
        except IntegrityError:  # the same key, sent twice at once: the other one holds it
            stored = db.session.get(DriverRequest, (driver_id, key))
    if stored is None or stored.endpoint != request.endpoint:
        abort(422, description="This Idempotency-Key was used for another request.")
    if stored.status_code is None:
        response = make_response("", 409)
        response.headers[RELOAD] = "true"
        return response
    response = make_response(stored.body or "", stored.status_code)
    response.headers[REPLAYED] = "true"
    return response


def _keep(driver_id, key, response) -> None:
    """Store the response for repeats. A view that refused rolled back its work, the claim
    with it: the refusal is then stored on its own, so a repeat gets the same refusal."""
    row = db.session.get(DriverRequest, (driver_id, key))
    if row is None:
        row = DriverRequest(
            driver_id=driver_id,
            idempotency_key=key,
            endpoint=request.endpoint,
            created_at=utcnow(),
        )
        db.session.add(row)
    row.status_code = response.status_code
    row.body = response.get_data(as_text=True)
    try:
        db.session.commit()
    except IntegrityError:  # a repeat that raced this refusal stored it first
        db.session.rollback()


def forget_old_requests(before: datetime) -> int:
    """Keys older than ``before`` are forgotten (a phone retries for minutes, not days)."""
    result = db.session.execute(sa.delete(DriverRequest).where(DriverRequest.created_at < before))
    return result.rowcount
