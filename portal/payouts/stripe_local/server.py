"""The HTTP side of the local Stripe server: Stripe's auth, idempotency and error answers around
the endpoints of ``api.py``, plus the control API (``control.py``) and the hosted pages
(``hosted.py``)."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request

from ...loopback import ServerThread
from . import api, control, hosted, payments_api
from .objects import API_VERSION
from .state import DAY, Saved, Store
from .webhooks import Endpoint, Outbox
from .wire import StripeError, decode_form, invalid_request, new_id

DEFAULT_PORT = 12111
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
ANSWERED_BEFORE_RUNNING = {"rate_limit", "api_error", "drop_before"}


@dataclass
class Exchange:
    """One API request and its answer. ``status`` None: the connection was dropped, after the
    endpoint made ``response`` or, when that is None too, before it ran."""

    method: str
    path: str
    query: str
    body: str
    status: int | None
    response: dict[str, Any] | None
    headers: dict[str, str]


class LocalStripe:
    """The server's state and its WSGI app (``.app``)."""

    def __init__(
        self,
        *,
        public_url: str = f"http://127.0.0.1:{DEFAULT_PORT}",
        api_key: str | None = None,
        idempotency_ttl: float = DAY,
        balance: dict[str, int] | None = None,
        webhooks: dict[str, Endpoint] | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
    ):
        self.public_url = public_url.rstrip("/")
        self.api_key = api_key
        self.outbox = Outbox(endpoints=dict(webhooks or {}))
        self.store = Store(
            idempotency_ttl=idempotency_ttl, balance=balance or {"usd": 0}, outbox=self.outbox
        )
        self.on_exchange = on_exchange
        self.app = self._build_app()

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["stripe_local"] = self
        for method, rule, handler in (*api.ROUTES, *payments_api.ROUTES):
            app.add_url_rule(
                rule,
                endpoint=f"{method} {rule}",
                view_func=self._view(handler),
                methods=[method],
            )
        app.register_blueprint(control.bp)
        app.register_blueprint(hosted.bp)
        for status in (404, 405):
            app.register_error_handler(status, self._unrecognized)
        return app

    def _view(self, handler: Callable[..., dict[str, Any]]):
        def view(**path_args):
            return self.handle(handler, path_args)

        return view

    def _unrecognized(self, error):
        if not request.path.startswith("/v1/"):
            return error
        return self._answer(
            invalid_request(
                f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                status=404,
            ).body(new_id("req")),
            404,
            {},
        )

    # --- one API request ------------------------------------------------------------------

    def handle(self, handler, path_args: dict[str, str]) -> Response:
        request_id = new_id("req")
        method, path = request.method, request.path
        raw = request.query_string.decode() if method == "GET" else request.get_data(as_text=True)
        headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        idempotency_key = request.headers.get("Idempotency-Key") if method == "POST" else None
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        drop = False
        with self.store.lock:
            try:
                scope = self._authenticate()
                params = decode_form(raw)
                if request.headers.get("Stripe-Account"):
                    raise invalid_request(
                        "The local Stripe server does not implement requests made on behalf of a "
                        "connected account (Stripe-Account)."
                    )
                status, body, drop = self._run(
                    handler, path_args, params, scope, idempotency_key, request_id, headers
                )
            except StripeError as error:
                status, body = error.status, error.body(request_id)
        if self.on_exchange is not None:
            self.on_exchange(
                Exchange(
                    method,
                    path,
                    request.query_string.decode(),
                    request.get_data(as_text=True) if method == "POST" else "",
                    None if drop else status,
                    copy.deepcopy(body),
                    dict(request.headers),
                )
            )
        if drop:
            return self._drop_connection()
        return self._answer(body, status, headers)

    def _run(self, handler, path_args, params, scope, idempotency_key, request_id, headers):
        """(status, body, drop the connection?) for an authenticated request, under the lock."""
        store = self.store
        fault = store.take_fault(request.method, request.path)
        if fault is not None and fault.kind in ANSWERED_BEFORE_RUNNING:
            headers["Stripe-Should-Retry"] = "true"
            if fault.kind == "drop_before":
                return 0, None, True
            error = _fault_error(fault.kind, fault.status)
            return error.status, error.body(request_id), False
        if idempotency_key:
            saved = store.saved_answer(scope, idempotency_key)
            if saved is not None:
                if (saved.method, saved.path, saved.params) != (
                    request.method,
                    request.path,
                    params,
                ):
                    raise StripeError(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{idempotency_key}' if you meant to execute a different request.",
                    )
                headers["Idempotent-Replayed"] = "true"
                headers["Original-Request"] = saved.request_id
                return saved.status, copy.deepcopy(saved.body), False
        call = api.Call(
            params=params,
            request_id=request_id,
            idempotency_key=idempotency_key,
            public_url=self.public_url,
        )
        keep = True
        try:
            if fault is not None and fault.kind in {"balance_insufficient", "card_declined"}:
                raise (
                    api.balance_insufficient()
                    if fault.kind == "balance_insufficient"
                    else (api.card_declined())
                )
            status, body = 200, copy.deepcopy(handler(store, call, **path_args))
        except StripeError as error:
            status, body, keep = error.status, error.body(request_id), error.saved
        if idempotency_key and keep:
            store.keep_answer(
                scope,
                idempotency_key,
                Saved(
                    request.method,
                    request.path,
                    params,
                    status,
                    copy.deepcopy(body),
                    store.now(),
                    request_id,
                ),
            )
        return status, body, fault is not None and fault.kind == "drop_after"

    def _authenticate(self) -> str:
        """The API key, which scopes idempotency keys, as at Stripe."""
        auth = request.authorization
        key = None
        if auth is not None:
            key = auth.token if auth.type == "bearer" else auth.username
        if not key:
            raise invalid_request(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
                status=401,
            )
        if not key.startswith(TEST_KEY_PREFIXES) or (self.api_key and key != self.api_key):
            raise invalid_request(f"Invalid API Key provided: {key[:8]}****{key[-4:]}", status=401)
        return key

    @staticmethod
    def _answer(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
        return Response(
            json.dumps(body, indent=2) + "\n",
            status=status,
            headers=headers,
            content_type="application/json",
        )

    @staticmethod
    def _drop_connection() -> Response:
        """Close the client's connection without an answer (werkzeug's server hands the socket
        to the app), as a network failure after Stripe acted would."""
        connection = request.environ.get("werkzeug.socket")
        if connection is None:
            raise RuntimeError("dropping a connection needs werkzeug's server")
        connection.shutdown(socket.SHUT_RDWR)
        return Response(status=204)

    def close(self) -> None:
        self.outbox.close()


def _fault_error(kind: str, status: int) -> StripeError:
    if kind == "rate_limit":
        # Stripe's spec (2024-04-10) knows no ``rate_limit_error`` type: a 429 says it.
        return invalid_request(
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
            status=429,
        )
    return StripeError(status, "api_error", "Something went wrong on Stripe's end.")


class Running:
    """A server on loopback in a thread (tests, benchmarks): ``.url``, ``.stripe``, ``.stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options):
        # The app is set once the port, which its links name, is known.
        self._thread = ServerThread(host, port)
        self.url = self._thread.url
        options.setdefault("public_url", self.url)
        self.stripe = LocalStripe(**options)
        self._thread.start(self.stripe.app)

    def stop(self) -> None:
        self._thread.stop()
        self.stripe.close()
