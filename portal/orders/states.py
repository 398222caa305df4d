"""The order state machine, in one place: which step an order may take now, and why not.

``refusal(order, action)`` answers for every step: the services call it before they act (and raise
``OrderStateConflict`` with its answer), and the pages call it to decide which buttons to show, so
a button is shown exactly when its step would be accepted. The storefront's events are ``pay``,
``complete``, ``cancel`` and ``refund``; the shop's own steps are ``accept``, ``ready`` and
``shop_cancel``; ``deliver`` is the delivery's (its driver or provider handed the order over). A
refund's amounts are checked by the refund rule (``refund_rule.py``), not here.
"""

from __future__ import annotations

from .models import Order

#: Paid and still the shop's to handle.
OPEN_PAID_STATUSES = ("paid", "partially_refunded")
#: Paid and not over: an order in these may still be completed or canceled.
PAID_NOT_OVER = ("paid", "fulfilled", "delivered", "partially_refunded")

ACTIONS = ("pay", "complete", "cancel", "refund", "accept", "ready", "shop_cancel", "deliver")


def _words(status: str) -> str:
    return status.replace("_", " ")


def _canceled(order: Order) -> bool:
    return order.canceled_at is not None or order.status == "canceled"


def _pay(order: Order) -> str | None:
    if order.status != "pending":
        return f"An order that is {_words(order.status)} cannot become paid."
    return None


def _complete(order: Order) -> str | None:
    if order.completed_at is not None:
        return "The order was completed already."
    if order.status not in PAID_NOT_OVER:
        return f"An order that is {_words(order.status)} cannot become completed."
    return None


def _cancel(order: Order) -> str | None:
    if order.completed_at is not None or order.status == "completed":
        return "A completed order cannot be canceled; refund it instead."
    if order.status not in ("pending", *PAID_NOT_OVER):
        return f"An order that is {_words(order.status)} cannot become canceled."
    return None


def _refund(order: Order) -> str | None:
    if order.paid_at is None or _canceled(order):
        return f"An order that is {_words(order.status)} has no payment to refund."
    return None


def _accept(order: Order) -> str | None:
    if order.accepted_at is not None:
        return "This order was accepted already."
    if _canceled(order):
        return "A canceled order cannot be accepted."
    if order.paid_at is None or order.status == "pending":
        return "This order is not paid yet; accept it once it is paid."
    if order.status not in OPEN_PAID_STATUSES:
        return f"An order that is {_words(order.status)} cannot be accepted."
    return None


def _ready(order: Order) -> str | None:
    if order.ready_at is not None:
        return "This order is marked ready for pickup already."
    if _canceled(order):
        return "A canceled order cannot be made ready for pickup."
    if order.accepted_at is None:
        return "Accept the order before marking it ready for pickup."
    if order.status not in OPEN_PAID_STATUSES or order.completed_at is not None:
        return f"An order that is {_words(order.status)} cannot be made ready for pickup."
    return None


def _shop_cancel(order: Order) -> str | None:
    if _canceled(order):
        return "This order was canceled already."
    if order.completed_at is not None or order.status == "completed":
        return "A completed order cannot be canceled; the customer can be refunded instead."
    if order.status == "refunded":
        return "This order was refunded in full already."
    return _cancel(order)


def _deliver(order: Order) -> str | None:
    if order.delivered_at is not None:
        return "The order was delivered already."
    if _canceled(order):
        return "A canceled order is not delivered."
    if order.paid_at is None or order.status == "pending":
        return "An order that is not paid cannot be delivered."
    if order.status == "refunded":
        return "An order refunded in full is not delivered."
    return None


_RULES = {
    "pay": _pay,
    "complete": _complete,
    "cancel": _cancel,
    "refund": _refund,
    "accept": _accept,
    "ready": _ready,
    "shop_cancel": _shop_cancel,
    "deliver": _deliver,
}


def refusal(order: Order, action: str) -> str | None:
    """Why ``order`` may not take ``action`` now, or None when it may."""
    return _RULES[action](order)


def allows(order: Order, action: str) -> bool:
    return refusal(order, action) is None
