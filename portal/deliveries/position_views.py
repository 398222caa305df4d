"""``POST /driver-positions``: a driver's phone sends its position; the ping goes to a Redis stream.

No session, no user and no database query here (portal/deliveries/positions.py): the signed
token names the driver, and the worker decides whether the ping counts. CSRF does not apply: the
request carries no cookie-based authority, only the token.
"""

from __future__ import annotations

import redis
from flask import Blueprint, Response, request

from ..extensions import csrf
from .positions import PingRefused, append_ping, check_ping

bp = Blueprint("positions", __name__)


def _answer(status: int, message: str = "") -> Response:
    response = Response(message, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/driver-positions")
@csrf.exempt
def ping():
    payload = request.get_json(silent=True)
    try:
        append_ping(check_ping(payload))
    except PingRefused as refused:
        return _answer(refused.status, str(refused))
    except redis.RedisError:
        # Pings may be dropped; the phone sends a newer one in a few seconds.
        return _answer(503, "Positions cannot be taken right now.")
    return _answer(202)
