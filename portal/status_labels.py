"""The words and badge tones people see for an order's and a delivery's status, and for a points
ledger row's type, in one place.

Pages never show the stored value ("paid", "enroute_to_pickup"): they use the template filters
registered here, ``order_status`` / ``order_tone``, ``delivery_status`` / ``delivery_tone`` and
``points_type`` / ``points_tone``. The
delivery's words are the status machine's (``deliveries.states.LABELS``, which the tracking page
and the driver's phone use too).
"""

from __future__ import annotations

from flask import Flask

from .deliveries.states import LABELS as DELIVERY_LABELS

ORDER_LABELS = {
    "pending": "Awaiting payment",
    "paid": "Paid",
    "fulfilled": "Fulfilled",
    "delivered": "Delivered",
    "completed": "Completed",
    "canceled": "Canceled",
    "refunded": "Refunded",
    "partially_refunded": "Partly refunded",
}
ORDER_TONES = {
    "delivered": "success",
    "completed": "success",
    "canceled": "critical",
    "refunded": "critical",
    "paid": "info",
}
NOT_DISPATCHED = "Not dispatched"
DELIVERY_TONES = {
    "delivered": "success",
    "cancelled": "critical",
    "returned": "critical",
    "enroute_to_return": "warning",
    "arrived_at_return": "warning",
    "created": "info",
}

# A points ledger row's type (loyalty/models.py, TRANSACTION_TYPES), as the customer reads it.
POINTS_LABELS = {
    "earned": "Earned",
    "redeemed": "Spent",
    "expired": "Expired",
    "adjusted": "Adjusted by the marketplace",
    "clawed_back": "Taken back (refund)",
    "returned": "Given back (refund)",
}
POINTS_TONES = {
    "earned": "success",
    "returned": "success",
    "redeemed": "info",
    "expired": "warning",
    "clawed_back": "critical",
}


def _words(status: str) -> str:
    """A status nobody named yet, still readable."""
    return status.replace("_", " ").capitalize()


def order_label(status: str | None) -> str:
    return ORDER_LABELS.get(status or "", _words(status or "unknown"))


def order_tone(status: str | None) -> str:
    return ORDER_TONES.get(status or "", "neutral")


def delivery_label(status: str | None) -> str:
    """The delivery's status in words; no delivery (None): "Not dispatched"."""
    if status is None:
        return NOT_DISPATCHED
    return DELIVERY_LABELS.get(status, _words(status))


def delivery_tone(status: str | None) -> str:
    return DELIVERY_TONES.get(status or "", "neutral")


def points_label(type_: str | None) -> str:
    return POINTS_LABELS.get(type_ or "", _words(type_ or "unknown"))


def points_tone(type_: str | None) -> str:
    return POINTS_TONES.get(type_ or "", "neutral")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["order_status"] = order_label
    app.jinja_env.filters["order_tone"] = order_tone
    app.jinja_env.filters["delivery_status"] = delivery_label
    app.jinja_env.filters["delivery_tone"] = delivery_tone
    app.jinja_env.filters["points_type"] = points_label
    app.jinja_env.filters["points_tone"] = points_tone
