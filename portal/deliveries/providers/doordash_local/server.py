"""The local DoorDash server: Drive API v2's endpoints the portal uses, DoorDash's JWT check and
error bodies, its own record of deliveries, webhooks, and the control API for tests and the demo.

One lock guards the state, so requests are handled one at a time. Webhooks go out from one
background thread in the order the events happened, after the request that caused them is
answered, so a portal that calls back into the server does not wait for itself.
"""

from __future__ import annotations

import copy
import json
import math
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from ....loopback import OrderedSender, ServerThread
from ..doordash import AUDIENCE, DELIVERY_STATUSES, JWT_VERSION, MAX_JWT_SECONDS, signing_key

DEFAULT_PORT = 12112
QUOTE_SECONDS = 300  # DoorDash's quotes are valid for five minutes
WEBHOOK_TIMEOUT = 10
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
PROOF_OPTIONS = {"photo_required", "photo_preferred", "pin_code", "none"}
# The fee when the request names no dropoff location: what DoorDash's sandbox quotes often are.
DEFAULT_FEE_CENTS = 975
FAULTS = {"api_error", "rate_limit", "drop_after"}

# Each event moves the delivery to a delivery_status, from the statuses it may follow.
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "DASHER_CONFIRMED": ("enroute_to_pickup", ("created", "confirmed")),
    "DASHER_CONFIRMED_PICKUP_ARRIVAL": ("arrived_at_pickup", ("enroute_to_pickup",)),
    "DASHER_PICKED_UP": ("picked_up", ("arrived_at_pickup", "enroute_to_pickup")),
    "DASHER_ENROUTE_TO_DROPOFF": ("enroute_to_dropoff", ("picked_up",)),
    "DASHER_CONFIRMED_DROPOFF_ARRIVAL": (
        "arrived_at_dropoff",
        ("picked_up", "enroute_to_dropoff"),
    ),
    "DASHER_DROPPED_OFF": ("delivered", ("arrived_at_dropoff",)),
    "DELIVERY_RETURN_INITIALIZED": (
        "enroute_to_return",
        ("picked_up", "enroute_to_dropoff", "arrived_at_dropoff"),
    ),
    "DASHER_CONFIRMED_RETURN_ARRIVAL": ("arrived_at_return", ("enroute_to_return",)),
    "DELIVERY_RETURNED": ("returned", ("arrived_at_return",)),
    # Any time before the end: DoorDash cancels on its side too (failed_to_return among them).
    "DELIVERY_CANCELLED": (
        "cancelled",
        tuple(sorted(DELIVERY_STATUSES - {"delivered", "cancelled", "returned"})),
    ),
}
MAIN_PATH = (
    "DASHER_CONFIRMED",
    "DASHER_CONFIRMED_PICKUP_ARRIVAL",
    "DASHER_PICKED_UP",
    "DASHER_CONFIRMED_DROPOFF_ARRIVAL",
    "DASHER_DROPPED_OFF",
)
RETURN_PATH = (
    "DELIVERY_RETURN_INITIALIZED",
    "DASHER_CONFIRMED_RETURN_ARRIVAL",
    "DELIVERY_RETURNED",
)
# Where a delivery may still be cancelled through the API: before its Dasher picked it up.
CANCELLABLE = {"created", "confirmed", "enroute_to_pickup", "arrived_at_pickup"}

# The request fields the portal may send, with their checks (DoorDash's Drive v2 names).
STRING_FIELDS = {
    "external_delivery_id": 64,
    "pickup_address": 500,
    "pickup_business_name": 255,
    "pickup_phone_number": 20,
    "pickup_instructions": 500,
    "pickup_reference_tag": 100,
    "dropoff_address": 500,
    "dropoff_business_name": 255,
    "dropoff_phone_number": 20,
    "dropoff_instructions": 500,
    "dropoff_contact_given_name": 100,
    "dropoff_contact_family_name": 100,
    "currency": 3,
    "action_if_undeliverable": 40,
}
INTEGER_FIELDS = {"order_value", "tip"}
BOOLEAN_FIELDS = {"dropoff_requires_signature", "contactless_dropoff"}
OBJECT_FIELDS = {"dropoff_options", "dropoff_location", "items"}
REQUIRED = ("external_delivery_id", "pickup_address", "dropoff_address", "dropoff_phone_number")
ITEM_FIELDS = {"name", "description", "quantity", "external_id", "price"}


class DriveError(Exception):
    """An error answered in DoorDash's shape: ``{"code", "message", "field_errors"?}``."""

    def __init__(self, status: int, code: str, message: str, field_errors=None):
        super().__init__(message)
        self.status, self.code, self.message, self.field_errors = (
            status,
            code,
            message,
            field_errors,
        )

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field_errors:
            body["field_errors"] = self.field_errors
        return body


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Fault:
    method: str
    path: str
    kind: str
    times: int = 1


@dataclass
class Event:
    id: int
    payload: dict[str, Any]
    deliveries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class State:
    clock_offset: float = 0.0
    fee_cents: int | None = None  # a fixed fee set through the control API
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # Every API request received, authenticated or not: method, path, body text, status.
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


class Outbox:
    """Sends webhooks one at a time, in order, from a thread of its own."""

    def __init__(self, url: str | None, authorization: str | None):
        self.url = url
        self.authorization = authorization
        self._sender = OrderedSender(self._deliver, "doordash-local-webhooks", WEBHOOK_TIMEOUT)

    def send(self, event: Event) -> None:
        if self.url:
            self._sender.put(event)

    def wait_idle(self, timeout: float) -> bool:
        return self._sender.wait_idle(timeout)

    def close(self) -> None:
        self._sender.close()

    def _deliver(self, event: Event) -> None:
        url, authorization = self.url, self.authorization
        if not url:
            return
        headers = {"Content-Type": "application/json", "User-Agent": "DoorDash-Drive-Local"}
        if authorization:
            headers["Authorization"] = authorization
        outgoing = urllib.request.Request(
            url, data=json.dumps(event.payload).encode(), method="POST", headers=headers
        )
        attempt: dict[str, Any] = {"url": url, "at": time.time(), "status": None, "error": None}
        event.deliveries.append(attempt)
        try:
            with urllib.request.urlopen(outgoing, timeout=WEBHOOK_TIMEOUT) as response:
                attempt["status"] = response.status
        except urllib.error.HTTPError as error:
            attempt["status"] = error.code
        except OSError as error:
            attempt["error"] = str(error)


class LocalDoorDash:
    """The server's state and its WSGI app (``.app``)."""

    def __init__(
        self,
        *,
        public_url: str = f"http://127.0.0.1:{DEFAULT_PORT}",
        developer_id: str,
        key_id: str,
        signing_secret: str,
        webhook_url: str | None = None,
        webhook_authorization: str | None = None,
    ):
        self.public_url = public_url.rstrip("/")
        self.developer_id = developer_id
        self.key_id = key_id
        self.key = signing_key(signing_secret)
        self.lock = threading.RLock()
        self.state = State()
        self.outbox = Outbox(webhook_url, webhook_authorization)
        self.app = self._build_app()

    def now(self) -> float:
        return time.time() + self.state.clock_offset

    # --- the app ------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["doordash_local"] = self
        for method, rule, handler in (
            ("POST", "/drive/v2/quotes", self.create_quote),
            ("POST", "/drive/v2/quotes/<external_id>/accept", self.accept_quote),
            ("POST", "/drive/v2/deliveries", self.create_delivery),
            ("GET", "/drive/v2/deliveries/<external_id>", self.get_delivery),
            ("PUT", "/drive/v2/deliveries/<external_id>/cancel", self.cancel_delivery),
        ):
            app.add_url_rule(
                rule, endpoint=f"{method} {rule}", view_func=self._view(handler), methods=[method]
            )
        app.add_url_rule("/tracking/<external_id>", view_func=self.tracking_page)
        app.register_blueprint(control)
        for status in (404, 405):
            app.register_error_handler(status, self._unrecognized)
        return app

    def _unrecognized(self, error):
        if not request.path.startswith("/drive/"):
            return error
        return self._answer(
            DriveError(error.code, "not_found", f"No such endpoint: {request.path}").body(),
            error.code,
        )

    def _view(self, handler):
        def view(**path_args):
            return self.handle(handler, path_args)

        return view

    def handle(self, handler, path_args) -> Response:
        raw = request.get_data(as_text=True)
        record = {"method": request.method, "path": request.path, "body": raw, "status": None}
        drop = False
        with self.lock:
            self.state.requests.append(record)
            try:
                self._authenticate()
                fault = self._take_fault(request.method, request.path)
                if fault is not None and fault.kind == "api_error":
                    raise DriveError(500, "internal_error", "Something went wrong at DoorDash.")
                if fault is not None and fault.kind == "rate_limit":
                    raise DriveError(429, "too_many_requests", "Too many requests.")
                body = self._json_body(raw) if request.method in ("POST", "PUT") else {}
                status, answer = 200, handler(body, **path_args)
                drop = fault is not None and fault.kind == "drop_after"
            except DriveError as error:
                status, answer = error.status, error.body()
            record["status"] = None if drop else status
        if drop:
            connection = request.environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)
            return Response(status=204)
        return self._answer(answer, status)

    @staticmethod
    def _answer(body: dict[str, Any], status: int) -> Response:
        return Response(json.dumps(body) + "\n", status=status, content_type="application/json")

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.state.faults:
            if fault.method == method and fault.path == path:
                fault.times -= 1
                if fault.times <= 0:
                    self.state.faults.remove(fault)
                return fault
        return None

    # --- DoorDash's checks --------------------------------------------------------------------

    def _authenticate(self) -> None:
        """A Bearer JWT: HS256 under the decoded signing secret, ``dd-ver: DD-JWT-V1``, ``aud``
        doordash, ``iss`` the developer id, ``kid`` the key id (claim and header), ``iat`` and an
        ``exp`` in the future, at most 30 minutes after ``iat``."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise DriveError(401, "authentication_error", "Missing Bearer token.")
        token = auth[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "HS256":
                raise DriveError(401, "authentication_error", "The JWT must be signed HS256.")
            if header.get("dd-ver") != JWT_VERSION:
                raise DriveError(
                    401, "authentication_error", f"The JWT header needs dd-ver: {JWT_VERSION}."
                )
            claims = jwt.decode(
                token,
                self.key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=self.developer_id,
                options={"require": ["aud", "iss", "kid", "iat", "exp"]},
                leeway=0,
            )
        except jwt.InvalidTokenError as error:
            raise DriveError(401, "authentication_error", f"Invalid JWT: {error}") from None
        if claims.get("kid") != self.key_id:
            raise DriveError(401, "authentication_error", "Unknown key id (kid).")
        if not isinstance(claims["iat"], int) or claims["exp"] - claims["iat"] > MAX_JWT_SECONDS:
            raise DriveError(401, "authentication_error", "The JWT may live 30 minutes at most.")

    @staticmethod
    def _json_body(raw: str) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise DriveError(400, "validation_error", "The body is not JSON.") from None
        if not isinstance(body, dict):
            raise DriveError(400, "validation_error", "The body is not a JSON object.")
        return body

    @staticmethod
    def validate(body: dict[str, Any]) -> None:
        errors = []

        def bad(name: str, message: str) -> None:
            errors.append({"field": name, "error": message})

        known = set(STRING_FIELDS) | INTEGER_FIELDS | BOOLEAN_FIELDS | OBJECT_FIELDS
        for name in sorted(set(body) - known):
            bad(name, "unknown field")
        for name in REQUIRED:
            if not body.get(name):
                bad(name, "required")
        for name, limit in STRING_FIELDS.items():
            value = body.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                bad(name, f"a string of at most {limit} characters")
        for name in ("pickup_phone_number", "dropoff_phone_number"):
            value = body.get(name)
            if isinstance(value, str) and value and not E164.match(value):
                bad(name, "must be in E.164 format (+15555551234)")
        for name in INTEGER_FIELDS:
            value = body.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                bad(name, "a whole number of cents >= 0")
        for name in BOOLEAN_FIELDS:
            if name in body and not isinstance(body[name], bool):
                bad(name, "true or false")
        options = body.get("dropoff_options")
        if options is not None:
            if not isinstance(options, dict) or set(options) - {
                "proof_of_delivery",
                "signature",
                "id_verification",
            }:
                bad("dropoff_options", "proof_of_delivery, signature, id_verification")
            elif options.get("proof_of_delivery", "none") not in PROOF_OPTIONS:
                bad("dropoff_options.proof_of_delivery", f"one of {sorted(PROOF_OPTIONS)}")
        location = body.get("dropoff_location")
        if location is not None and not (
            isinstance(location, dict)
            and set(location) == {"lat", "lng"}
            and all(isinstance(v, int | float) for v in location.values())
        ):
            bad("dropoff_location", "{lat, lng}")
        items = body.get("items")
        if items is not None:
            if not isinstance(items, list):
                bad("items", "a list")
            else:
                for n, item in enumerate(items):
                    where = f"items[{n}]"
                    if not isinstance(item, dict) or set(item) - ITEM_FIELDS:
                        bad(where, f"an object of {sorted(ITEM_FIELDS)}")
                        continue
                    if not isinstance(item.get("name"), str) or not item["name"]:
                        bad(f"{where}.name", "required")
                    quantity = item.get("quantity")
                    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                        bad(f"{where}.quantity", "a whole number >= 1")
                    price = item.get("price")
                    if price is not None and (not isinstance(price, int) or price < 0):
                        bad(f"{where}.price", "a whole number of cents >= 0")
        if errors:
            raise DriveError(400, "validation_error", "Validation Failed", errors)

    # --- deliveries ---------------------------------------------------------------------------

    def fee_for(self, body: dict[str, Any]) -> int:
        if self.state.fee_cents is not None:
            return self.state.fee_cents
        location = body.get("dropoff_location")
        if not location:
            return DEFAULT_FEE_CENTS
        # A made-up but steady price: $5.99 and 0.5 cents per metre from a point in the city.
        metres = math.dist((location["lat"], location["lng"]), (45.5152, -122.6784)) * 111_000
        return 599 + int(metres * 0.05)

    def _delivery(self, body: dict[str, Any], status: str, fee: int) -> dict[str, Any]:
        now = self.now()
        external_id = body["external_delivery_id"]
        delivery = {
            **copy.deepcopy(body),
            "external_delivery_id": external_id,
            "currency": body.get("currency") or "USD",
            "delivery_status": status,
            "fee": fee,
            "tip": body.get("tip", 0),
            "order_value": body.get("order_value", 0),
            "tracking_url": f"{self.public_url}/tracking/{external_id}",
            "support_reference": str(100000 + len(self.state.deliveries) + len(self.state.quotes)),
            "pickup_time_estimated": _iso(now + 15 * 60),
            "dropoff_time_estimated": _iso(now + 40 * 60),
            "updated_at": _iso(now),
        }
        return delivery

    def _known(self, external_id: str) -> dict[str, Any]:
        delivery = self.state.deliveries.get(external_id)
        if delivery is None:
            raise DriveError(404, "not_found", f"No delivery {external_id}.")
        return delivery

    def _refuse_duplicate(self, external_id: str) -> None:
        if external_id in self.state.deliveries:
            raise DriveError(
                409,
                "duplicate_delivery_id",
                f"A delivery with external_delivery_id {external_id} already exists.",
            )

    def create_quote(self, body: dict[str, Any]) -> dict[str, Any]:
        self.validate(body)
        self._refuse_duplicate(body["external_delivery_id"])
        quote = self._delivery(body, "quote", self.fee_for(body))
        quote["quoted_at_unix"] = self.now()
        self.state.quotes[body["external_delivery_id"]] = quote
        return _public(quote)

    def accept_quote(self, body: dict[str, Any], external_id: str) -> dict[str, Any]:
        if set(body) - {"tip", "dropoff_phone_number"}:
            raise DriveError(400, "validation_error", "Accept takes tip and dropoff_phone_number.")
        self._refuse_duplicate(external_id)
        quote = self.state.quotes.get(external_id)
        if quote is None:
            raise DriveError(404, "not_found", f"No quote for {external_id}.")
        if self.now() - quote["quoted_at_unix"] > QUOTE_SECONDS:
            raise DriveError(400, "quote_expired", "The quote has expired; request a new one.")
        tip = body.get("tip", quote["tip"])
        if not isinstance(tip, int) or isinstance(tip, bool) or tip < 0:
            raise DriveError(400, "validation_error", "tip is a whole number of cents >= 0")
        delivery = {
            **quote,
            "delivery_status": "created",
            "tip": tip,
            "updated_at": _iso(self.now()),
        }
        delivery.pop("quoted_at_unix")
        del self.state.quotes[external_id]
        self.state.deliveries[external_id] = delivery
        return _public(delivery)

    def create_delivery(self, body: dict[str, Any]) -> dict[str, Any]:
        self.validate(body)
        self._refuse_duplicate(body["external_delivery_id"])
        delivery = self._delivery(body, "created", self.fee_for(body))
        self.state.quotes.pop(body["external_delivery_id"], None)
        self.state.deliveries[body["external_delivery_id"]] = delivery
        return _public(delivery)

    def get_delivery(self, body: dict[str, Any], external_id: str) -> dict[str, Any]:
        return _public(self._known(external_id))

    def cancel_delivery(self, body: dict[str, Any], external_id: str) -> dict[str, Any]:
        delivery = self._known(external_id)
        if delivery["delivery_status"] == "cancelled":
            return _public(delivery)
        if delivery["delivery_status"] not in CANCELLABLE:
            raise DriveError(
                400,
                "cannot_be_cancelled",
                "The delivery cannot be cancelled: the Dasher has picked it up.",
            )
        delivery["cancellation_reason"] = "cancelled_by_creator"
        self.event(delivery, "DELIVERY_CANCELLED")
        return _public(delivery)

    # --- events -------------------------------------------------------------------------------

    def event(
        self, delivery: dict[str, Any], name: str, location: dict[str, float] | None = None
    ) -> Event:
        """Move the delivery as ``name`` says and send its webhook (the lock is held)."""
        status, after = EVENTS[name]
        if delivery["delivery_status"] not in after:
            raise DriveError(
                400,
                "invalid_transition",
                f"{name} cannot follow delivery_status {delivery['delivery_status']}.",
            )
        now = self.now()
        delivery["delivery_status"] = status
        delivery["updated_at"] = _iso(now)
        if name == "DASHER_CONFIRMED":
            delivery.update(
                dasher_id=4242,
                dasher_name="Dana D.",
                dasher_dropoff_phone_number="+15035550142",
                dasher_pickup_phone_number="+15035550143",
                dasher_vehicle_make="Toyota",
                dasher_vehicle_model="Prius",
            )
        if name == "DASHER_PICKED_UP":
            delivery["pickup_time_actual"] = _iso(now)
        if name == "DASHER_DROPPED_OFF":
            delivery["dropoff_time_actual"] = _iso(now)
            proof = (delivery.get("dropoff_options") or {}).get("proof_of_delivery")
            if proof in ("photo_required", "photo_preferred"):
                delivery["dropoff_verification_image_url"] = (
                    f"{self.public_url}/proof/{delivery['external_delivery_id']}/photo.jpg"
                )
            if delivery.get("dropoff_requires_signature"):
                delivery["dropoff_signature_image_url"] = (
                    f"{self.public_url}/proof/{delivery['external_delivery_id']}/signature.png"
                )
        if name == "DELIVERY_RETURNED":
            delivery["return_time_actual"] = _iso(now)
        if location is not None:
            delivery["dasher_location"] = {"lat": location["lat"], "lng": location["lng"]}
        elif "dasher_id" in delivery and "dasher_location" not in delivery:
            start = delivery.get("dropoff_location") or {"lat": 45.5152, "lng": -122.6784}
            delivery["dasher_location"] = dict(start)
        payload = {
            **_public(delivery),
            "event_name": name,
            "created_at": datetime.fromtimestamp(now, UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
        }
        event = Event(id=len(self.state.events) + 1, payload=payload)
        self.state.events.append(event)
        self.outbox.send(event)
        return event

    def tracking_page(self, external_id: str):
        with self.lock:
            delivery = self._known_or_404(external_id)
            status = delivery["delivery_status"]
        return Response(
            f"<!doctype html><title>Delivery {external_id}</title>"
            f"<p>Local DoorDash: delivery {external_id} is {status}.</p>",
            content_type="text/html",
        )

    def _known_or_404(self, external_id: str) -> dict[str, Any]:
        delivery = self.state.deliveries.get(external_id)
        if delivery is None:
            abort(404)
        return delivery

    def close(self) -> None:
        self.outbox.close()


def _public(delivery: dict[str, Any]) -> dict[str, Any]:
    """The delivery as the API answers it (without the server's own bookkeeping)."""
    return {k: copy.deepcopy(v) for k, v in delivery.items() if not k.endswith("_unix")}


# --- the control API: not part of DoorDash; loopback only ------------------------------------

control = Blueprint("control", __name__, url_prefix="/_control")


def _local() -> LocalDoorDash:
    return current_app.extensions["doordash_local"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        abort(400, "a JSON object")
    return body


def _bad(message: str):
    return jsonify({"error": message}), 400


@control.post("/reset")
def reset():
    """Forget every quote, delivery, event, request and fault (the webhook stays)."""
    local = _local()
    with local.lock:
        local.state = State()
    return jsonify({"ok": True})


@control.get("/deliveries")
def deliveries():
    """The server's own record: every delivery with what it was sent (items among it)."""
    local = _local()
    with local.lock:
        return jsonify([_public(d) for d in local.state.deliveries.values()])


@control.get("/requests")
def requests_received():
    """Every API request received, oldest first: method, path, body as sent, status."""
    local = _local()
    with local.lock:
        return jsonify(copy.deepcopy(local.state.requests))


@control.post("/deliveries/<external_id>/advance")
def advance(external_id: str):
    """``{"event": "DASHER_PICKED_UP"}`` moves the delivery one event on; ``{"to": "delivered"}``
    (or ``returned``) through every event up to there. ``location`` ``{lat, lng}`` sets the
    Dasher's position. Each event's webhook goes to the portal."""
    body = _body()
    local = _local()
    location = body.get("location")
    if location is not None and not (
        isinstance(location, dict) and {"lat", "lng"} <= set(location)
    ):
        return _bad("location is {lat, lng}")
    with local.lock:
        delivery = local._known_or_404(external_id)
        if "event" in body:
            names = [body["event"]]
        elif body.get("to") in ("delivered", "returned", "picked_up"):
            names = _path_to(delivery["delivery_status"], body["to"])
        else:
            return _bad(f"give event (one of {', '.join(EVENTS)}) or to")
        if any(name not in EVENTS for name in names):
            return _bad(f"event is one of {', '.join(EVENTS)}")
        sent = []
        try:
            for name in names:
                sent.append(local.event(delivery, name, location).id)
        except DriveError as error:
            return jsonify(error.body()), 400
        return jsonify({"delivery": _public(delivery), "events": sent})


def _path_to(status: str, target: str) -> list[str]:
    """The events that take a delivery in ``status`` on to ``target``, in order."""
    path = {
        "delivered": MAIN_PATH,
        "picked_up": MAIN_PATH[:3],
        "returned": MAIN_PATH[:3] + RETURN_PATH,
    }[target]
    names = []
    for name in path:
        moves_to, follows = EVENTS[name]
        if status in follows:
            names.append(name)
            status = moves_to
    return names


@control.get("/events")
def events():
    local = _local()
    with local.lock:
        return jsonify(
            [
                {"id": e.id, "payload": e.payload, "deliveries": copy.deepcopy(e.deliveries)}
                for e in local.state.events
            ]
        )


@control.post("/events/wait")
def wait_for_events():
    """Answers once every webhook so far was sent (or ``timeout`` seconds passed)."""
    delivered = _local().outbox.wait_idle(float(_body().get("timeout", 10)))
    return jsonify({"delivered": delivered}), (200 if delivered else 504)


@control.post("/events/<int:event_id>/resend")
def resend(event_id: int):
    """Sends an event again, as DoorDash retries one."""
    local = _local()
    with local.lock:
        for event in local.state.events:
            if event.id == event_id:
                local.outbox.send(event)
                return jsonify({"ok": True})
    abort(404)


@control.post("/webhook")
def webhook():
    """``{"url": ..., "authorization": ...}`` sets where webhooks go; ``{"url": null}`` stops."""
    body = _body()
    outbox = _local().outbox
    if "url" not in body:
        return _bad("give url (and authorization)")
    outbox.url = body["url"]
    if "authorization" in body:
        outbox.authorization = body["authorization"]
    return jsonify({"url": outbox.url})


@control.post("/clock")
def clock():
    """``{"advance_seconds": 301}``: the server's clock moves on (quotes expire)."""
    seconds = _body().get("advance_seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        return _bad("advance_seconds is a number >= 0")
    local = _local()
    with local.lock:
        local.state.clock_offset += seconds
    return jsonify({"now": _iso(local.now())})


@control.post("/fee")
def fee():
    """``{"cents": 1299}``: every quote and delivery from now costs that; ``{"cents": null}``
    goes back to the distance price."""
    cents = _body().get("cents")
    if cents is not None and (not isinstance(cents, int) or cents < 0):
        return _bad("cents is a whole number >= 0, or null")
    local = _local()
    with local.lock:
        local.state.fee_cents = cents
    return jsonify({"cents": cents})


@control.post("/faults")
def arm_fault():
    """``{"method": "POST", "path": "/drive/v2/deliveries", "fault": "drop_after", "times": 1}``:
    ``api_error`` (500) and ``rate_limit`` (429) answer before anything happens; ``drop_after``
    does the request, then closes the connection unanswered."""
    body = _body()
    if body.get("fault") not in FAULTS:
        return _bad(f"fault is one of {', '.join(sorted(FAULTS))}")
    path, times = body.get("path"), body.get("times", 1)
    if not isinstance(path, str) or not path.startswith("/drive/v2/"):
        return _bad("path is the request path, e.g. /drive/v2/deliveries")
    if not isinstance(times, int) or times < 1:
        return _bad("times is a positive integer")
    fault = Fault(str(body.get("method", "POST")).upper(), path, body["fault"], times)
    local = _local()
    with local.lock:
        local.state.faults.append(fault)
    return jsonify(vars(fault)), 201


class Running:
    """A server on loopback in a thread (tests): ``.url``, ``.doordash``, ``.stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options):
        self._thread = ServerThread(host, port)
        self.url = self._thread.url
        options.setdefault("public_url", self.url)
        self.doordash = LocalDoorDash(**options)
        self._thread.start(self.doordash.app)

    def stop(self) -> None:
        self._thread.stop()
        self.doordash.close()
