"""The webhook's limits, over real HTTP: body size on the bytes read, JSON depth, odd text.

A refused body is never stored: no order, no event log row.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from portal.orders.webhooks import MAX_BODY_BYTES, signature_header
from tests.orders.test_webhook_http import counts, event, order_body, post, shop  # noqa: F401


def send_chunked(base_url: str, secret: str, body: bytes, chunk: int = 64 * 1024) -> int:
    """POST ``body`` with Transfer-Encoding: chunked (no Content-Length); returns the status."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    pieces = (body[i : i + chunk] for i in range(0, len(body), chunk))
    try:
        connection.request(
            "POST",
            "/webhooks/orders",
            body=pieces,
            encode_chunked=True,
            headers={
                "Content-Type": "application/json",
                "Portal-Signature": signature_header(secret, body),
                "Transfer-Encoding": "chunked",
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    except (BrokenPipeError, ConnectionResetError):
        return 413  # the server answered and closed before we finished sending
    finally:
        connection.close()


def padded_event(vendor_id, size: int) -> bytes:
    body = event("order.placed", order_body(vendor_id))
    body["padding"] = ""
    raw = json.dumps(body).encode()
    body["padding"] = "x" * (size - len(raw))
    return json.dumps(body).encode()


def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(app, live_server, shop):  # noqa: F811
    secret = app.config["ORDER_WEBHOOK_SECRET"]
    big = padded_event(shop, MAX_BODY_BYTES + 1)
    assert len(big) == MAX_BODY_BYTES + 1
    assert send_chunked(live_server, secret, big) == 413
    assert counts() == (0, 0, 0)
    # Just at the limit, the same chunked transfer is read and processed.
    fits = padded_event(shop, MAX_BODY_BYTES)
    assert send_chunked(live_server, secret, fits) == 200
    assert counts() == (1, 1, 0)


def test_a_declared_length_over_the_limit_is_refused(app, live_server, shop, post):  # noqa: F811
    status, answer = post(None, raw=padded_event(shop, MAX_BODY_BYTES + 10))
    assert status == 413 and "larger than" in answer["error"]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper"),
    ],
)
def test_deep_json_is_a_400_not_a_crash(shop, post, raw, reason):  # noqa: F811
    status, answer = post(None, raw=raw)
    assert status == 400 and reason in answer["error"]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"customer": {"email": "a\u0000@example.com"}}, "NUL character or a lone surrogate"),
        ({"customer": {"email": "\ud800@example.com"}}, "NUL character or a lone surrogate"),
        (
            {"items": [{"sku": "A", "title": "T", "quantity": 2**31, "unit_price": "1.00"}]},
            "quantity is too large",
        ),
        (
            {"items": [{"sku": "A", "title": "T", "quantity": 10**40, "unit_price": "1.00"}]},
            "quantity is too large",
        ),
    ],
)
def test_text_and_integers_no_column_holds_are_refused(shop, post, change, reason):  # noqa: F811
    status, answer = post(event("order.placed", order_body(shop, **change)))
    assert status == 400 and reason in answer["error"], answer
    assert counts() == (0, 0, 0)


def test_a_body_nested_within_the_limit_still_works(shop, post):  # noqa: F811
    order = order_body(shop)
    order["delivery"]["dropoff_address"]["extra"] = {"a": {"b": {"c": [1, [2, [3]]]}}}
    assert post(event("order.placed", order)) == (200, {"status": "processed"})
    assert counts() == (1, 1, 0)
