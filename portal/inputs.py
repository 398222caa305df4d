"""Input safety: the rules every value from outside passes, so odd input is a 4xx, never a 500.

Each rule covers a class of input once:

- text: a NUL byte (PostgreSQL cannot store it) or a lone surrogate (not encodable as UTF-8) in
  the path, query string, form fields, upload file names or a JSON body is refused with 400
  (:func:`refuse_unsafe_text`, a request hook; :func:`load_json` for JSON bodies);
- numbers: a Decimal or an integer must fit the column it is stored in, read from the column's own
  type (``NUMERIC(p, s)``, PostgreSQL's ``integer``/``bigint``) (:func:`fit_numeric`,
  :func:`fit_integer`);
- dates: every date a user types lies within :data:`EARLIEST_DATE` .. :data:`LATEST_DATE`, so date
  arithmetic (the day after, the next month) never leaves Python's or PostgreSQL's range
  (:class:`DateInRange`, :func:`parse_month`);
- JSON: nesting deeper than :data:`MAX_JSON_DEPTH` is refused before the parser recurses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, request
from wtforms.validators import ValidationError

# A NUL, or a UTF-16 surrogate half standing alone (Python keeps those in str; UTF-8 cannot).
UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_MESSAGE = f"Choose a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."

MAX_JSON_DEPTH = 32

INTEGER_RANGES = {
    sa.SmallInteger: (-(2**15), 2**15 - 1),
    sa.BigInteger: (-(2**63), 2**63 - 1),
    sa.Integer: (-(2**31), 2**31 - 1),  # last: SmallInteger and BigInteger are Integer subclasses
}


class UnsafeInput(ValueError):
    """A value no column can hold or no parser should take; the message says what and where."""


# --- text --------------------------------------------------------------------------------------


def has_unsafe_text(value: str) -> bool:
    return UNSAFE_TEXT.search(value) is not None


def _first_unsafe(pairs: Iterable[tuple[str, Any]]) -> str | None:
    for key, value in pairs:
        for text in (key, value):
            if isinstance(text, str) and has_unsafe_text(text):
                return key if isinstance(key, str) and not has_unsafe_text(key) else "a field name"
    return None


def reads_raw_body(view: Callable) -> Callable:
    """Mark a view that reads its body's bytes itself: the hook below must not parse it as a form
    (that would consume the stream a signature is computed over)."""
    view.reads_raw_body = True
    return view


def refuse_unsafe_text() -> None:
    """``before_request`` hook: 400 for a NUL byte or lone surrogate anywhere a view reads text.

    Form data is parsed only for form requests; a JSON body is left to its endpoint's
    :func:`load_json` (the webhook reads and limits its raw bytes itself).
    """
    sources = [
        ("the address", (request.view_args or {}).items()),
        ("the query string", request.args.items(multi=True)),
    ]
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "reads_raw_body", False):
        sources += [
            ("the form", request.form.items(multi=True)),
            (
                "the file name",
                ((key, upload.filename) for key, upload in request.files.items(multi=True)),
            ),
        ]
    if has_unsafe_text(request.path):
        abort(400, description=_unsafe_message("the address", None))
    for where, pairs in sources:
        field = _first_unsafe(pairs)
        if field is not None:
            abort(400, description=_unsafe_message(where, field))


def _unsafe_message(where: str, field: str | None) -> str:
    named = f" (field {field!r})" if field and where != "the address" else ""
    return (
        f"{where[0].upper()}{where[1:]}{named} contains a NUL byte or an invalid character; "
        "remove it and try again."
    )


# --- JSON ---------------------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deeply ``raw``'s arrays and objects nest, found without recursion (strings skipped)."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    steps = (1 if byte in b"[{" else -1 for byte in brackets)
    return max(accumulate(steps), default=0)


def load_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH, **loads_options) -> Any:
    """``json.loads`` that refuses deep nesting, NUL bytes and lone surrogates (``UnsafeInput``).

    Other parse errors propagate as ``json.JSONDecodeError``/``UnicodeDecodeError`` (ValueErrors).
    """
    if json_depth(raw) > max_depth:
        raise UnsafeInput(f"JSON nested deeper than {max_depth} levels is not accepted")
    value = json.loads(raw, **loads_options)
    where = _unsafe_json_path(value, "body")
    if where is not None:
        raise UnsafeInput(f"{where} contains a NUL character or a lone surrogate")
    return value


def _unsafe_json_path(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if has_unsafe_text(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if has_unsafe_text(key):
                return f"a key in {where}"
            found = _unsafe_json_path(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = _unsafe_json_path(item, f"{where}[{n}]")
            if found:
                return found
    return None


# --- numbers -----------------------------------------------------------------------------------


def _type_of(column) -> sa.types.TypeEngine:
    column = getattr(column, "expression", column)  # an ORM attribute, or a Column
    return column.type


def numeric_limit(column) -> Decimal:
    """The largest value a ``NUMERIC(p, s)`` column holds, e.g. 99999999.99 for (10, 2)."""
    kind = _type_of(column)
    return Decimal(10) ** (kind.precision - kind.scale) - Decimal(1).scaleb(-kind.scale)


def fit_numeric(value: Decimal, column, *, minimum: Decimal | None = None) -> Decimal:
    """``value`` rounded half-up to the column's scale; ``UnsafeInput`` when it cannot be stored.

    The magnitude is checked before rounding: ``quantize`` of ``1e27`` to the cent would itself
    overflow Decimal's context.
    """
    kind = _type_of(column)
    if not value.is_finite():
        raise UnsafeInput("not a number")
    if value and value.adjusted() >= kind.precision - kind.scale:
        raise UnsafeInput(f"too large (at most {numeric_limit(column)})")
    rounded = value.quantize(Decimal(1).scaleb(-kind.scale), rounding=ROUND_HALF_UP)
    limit = numeric_limit(column)
    if abs(rounded) > limit:
        raise UnsafeInput(f"too large (at most {limit})")
    if minimum is not None and rounded < minimum:
        raise UnsafeInput(f"below {minimum}")
    return rounded


def integer_range(column) -> tuple[int, int]:
    kind = _type_of(column)
    for integer_type, bounds in INTEGER_RANGES.items():
        if isinstance(kind, integer_type):
            return bounds
    raise TypeError(f"{column} is not an integer column")


def fit_integer(value: int, column, *, minimum: int | None = None) -> int:
    """``value`` unchanged if the integer column holds it (and it is not below ``minimum``)."""
    low, high = integer_range(column)
    if minimum is not None:
        low = max(low, minimum)
    if value > high:
        raise UnsafeInput(f"too large (at most {high:,})")
    if value < low:
        raise UnsafeInput(f"below {low:,}")
    return value


# --- unique constraints -----------------------------------------------------------------------


def constraint_of(error: Exception) -> str | None:
    """The name of the constraint a database error (e.g. ``IntegrityError``) violated, if any.

    Services catch a unique violation that lost a race and turn it into their own domain error.
    """
    diag = getattr(getattr(error, "orig", error), "diag", None)
    return getattr(diag, "constraint_name", None)


# --- dates -------------------------------------------------------------------------------------


def date_in_range(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


class DateInRange:
    """WTForms validator: the date lies between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`."""

    def __call__(self, form, field) -> None:
        if field.data is not None and not date_in_range(field.data):
            raise ValidationError(DATE_RANGE_MESSAGE)


MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` (surrounding blanks ignored) as its first day; None when blank.

    Raises ``UnsafeInput`` with the message to show for anything else, or a month out of range.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = MONTH_PATTERN.fullmatch(text)
    if match is None:
        raise UnsafeInput("Use the form YYYY-MM.")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise UnsafeInput("That month does not exist.")
    if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:  # checked before date(): year 0
        raise UnsafeInput(DATE_RANGE_MESSAGE)
    return date(year, month, 1)


def strip_filter(value: Any) -> Any:
    """WTForms filter: surrounding blanks removed from text."""
    return value.strip() if isinstance(value, str) else value


def register(app) -> None:
    app.before_request(refuse_unsafe_text)
