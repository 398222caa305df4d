"""``POST /driver-positions``: a driver's phone sends its position; the ping goes to a Redis stream.

No session, no user and no database query here (portal/deliveries/positions.py): the signed
token names the driver, and the worker decides whether the ping counts. CSRF does not apply: the
request carries no cookie-based authority, only the token.

The endpoint is the busiest of the portal (every online phone, every few seconds), so it is
answered by a small WSGI layer in front of Flask (:class:`PositionPings`, installed by
``init_app``): a ping never pays for Flask's request hooks, sessions or templates, only for the
token check and one ``XADD``. The Flask route below names the endpoint (``url_for``) and answers
when the layer is not installed.
"""

from __future__ import annotations

import json

import redis
from flask import Blueprint, Flask, Response, current_app, request

from ..extensions import csrf
from ..inputs import reads_raw_body
from ..security import CONTENT_SECURITY_POLICY
from .positions import PingRefused, append_ping, check_ping

PATH = "/driver-positions"
MAX_BODY = 2048

bp = Blueprint("positions", __name__)


def answer_ping(payload, app: Flask) -> tuple[int, str]:
    """(status, message) for a ping's JSON payload: 202 taken, 400/401 refused, 503 no Redis."""
    try:
        append_ping(check_ping(payload, app=app), app)
    except PingRefused as refused:
        return refused.status, str(refused)
    except redis.RedisError:
        # Pings may be dropped; the phone sends a newer one in a few seconds.
        return 503, "Positions cannot be taken right now."
    return 202, ""


@bp.post(PATH)
@csrf.exempt
@reads_raw_body
def ping():
    status, message = answer_ping(request.get_json(silent=True), current_app._get_current_object())
    response = Response(message, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


_REASONS = {
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    503: "Service Unavailable",
}


class PositionPings:
    """WSGI middleware answering ``POST /driver-positions`` before Flask sees it."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        status, message = self._handle(environ)
        body = message.encode()
        start_response(
            f"{status} {_REASONS[status]}",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"),
                ("Referrer-Policy", "no-referrer"),
            ],
        )
        return [body]

    def _handle(self, environ) -> tuple[int, str]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return 413, f"A position is at most {MAX_BODY} bytes."
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            payload = None
        return answer_ping(payload, self.app)


def init_app(app: Flask) -> None:
    app.wsgi_app = PositionPings(app, app.wsgi_app)
