"""Stripe's wire format: bracket-notation form bodies, ids, and error bodies."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """An id shaped like Stripe's: its prefix, then 24 random letters and digits."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


class StripeError(Exception):
    """An error answered in Stripe's error body.

    ``saved`` says whether the endpoint had begun executing, so that Stripe would keep the
    answer under the request's idempotency key (a refusal of the request itself is not kept).
    """

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        saved: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.saved = saved

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


def invalid_request(message: str, *, param: str | None = None, code: str | None = None, status=400):
    return StripeError(status, "invalid_request_error", message, param=param, code=code)


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding, as a nested value: ``a[b][c]=1`` is ``{"a": {"b": {"c": "1"}}}``.

    Indexed keys (``expand[0]``, ``items[0][price]``) and ``key[]`` become lists; every leaf
    stays a string, as on the wire. Raises ``StripeError`` for a key that is not well formed or
    that mixes a value with nested keys.
    """
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        match = _KEY.match(raw_key)
        if not match:
            raise invalid_request(f"Invalid parameter name: {raw_key}", param=raw_key)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _place(root, path, value, raw_key)
    return _lists(root)


def _place(node: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        if part == "":  # key[]: the next element of a list
            part = str(sum(1 for key in node if key.isdigit()))
        if last:
            if isinstance(node.get(part), dict):
                raise invalid_request(f"Invalid value for {raw_key}: it has nested keys too")
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise invalid_request(f"Invalid value for {raw_key}: it is also a plain value")
        node = child


def _lists(node: Any) -> Any:
    """Dicts keyed 0..n-1 become lists, as Stripe reads ``expand[0]``."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        indices = sorted(int(key) for key in converted)
        if indices == list(range(len(indices))):
            return [converted[str(index)] for index in indices]
    return converted


def parse_bool(value: Any, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise invalid_request(f"Invalid boolean: {value}", param=param)


def parse_int(value: Any, param: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_request(f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise invalid_request(f"Invalid {param}: must be at least {minimum}", param=param) from None
    return number


def refuse_unknown(params: dict[str, Any], allowed: set[str], *, prefix: str = "") -> None:
    """Stripe answers a parameter it does not know with a 400 that names it."""
    for key in params:
        if key not in allowed:
            name = f"{prefix}[{key}]" if prefix else key
            raise invalid_request(f"Received unknown parameter: {name}", param=name)


def metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or any(isinstance(v, dict | list) for v in value.values()):
        raise invalid_request("Invalid metadata: a hash of strings", param=param)
    return {key: item for key, item in value.items() if item != ""}
