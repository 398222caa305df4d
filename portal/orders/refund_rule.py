"""What a refund returns, and of what: the one rule for every refund (docs/money.md, "Refunds").

Pure arithmetic on an order's amounts and what has been refunded of them so far; no database.
An order's money splits into its merchandise (``subtotal``, the vendor's; the customer paid
``subtotal - points_discount`` of it, the marketplace funded the rest) and its delivery fee. A
refund returns some of each:

* one that **names** lines and/or a delivery part returns those lines' merchandise at their unit
  price (their *merchandise share*, what commission, fee and volume follow) and, in money, that
  share less its part of the points discount, plus the delivery part;
* one that names nothing is spread **pro rata** over the merchandise and the delivery fee left.

Every figure is cumulative (what has been returned through this refund, less what had been
before), so refunds of any kind combine in any order without drift, and the refund that returns
the last of the money returns exactly what is left of each part.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..money import to_money

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class RefundDoesNotFit(ValueError):
    """A refund that asks for more than is left, or whose amount doesn't add up; the message says
    what was expected."""


@dataclass(frozen=True)
class RefundState:
    """An order's amounts and what has been refunded of them so far."""

    subtotal: Decimal
    delivery_fee: Decimal
    points_discount: Decimal
    total: Decimal
    refunded_amount: Decimal = ZERO
    refunded_subtotal: Decimal = ZERO
    refunded_delivery: Decimal = ZERO

    @property
    def money_left(self) -> Decimal:
        return self.total - self.refunded_amount

    @property
    def merchandise_left(self) -> Decimal:
        return self.subtotal - self.refunded_subtotal

    @property
    def delivery_left(self) -> Decimal:
        # Never more than the money left (refunds recorded before delivery parts were kept).
        return max(ZERO, min(self.delivery_fee - self.refunded_delivery, self.money_left))

    def after(self, share: RefundShare) -> RefundState:
        return RefundState(
            self.subtotal,
            self.delivery_fee,
            self.points_discount,
            self.total,
            self.refunded_amount + share.amount,
            self.refunded_subtotal + share.merchandise,
            self.refunded_delivery + share.delivery,
        )


@dataclass(frozen=True)
class RefundShare:
    amount: Decimal  # the customer's money returned
    merchandise: Decimal  # the merchandise share: what commission, fee and volume follow
    delivery: Decimal  # the part of ``amount`` that returns the delivery fee


def points_through(state: RefundState, merchandise: Decimal) -> Decimal:
    """The part of the points discount returned once this much merchandise is refunded."""
    if merchandise >= state.subtotal:
        return state.points_discount
    return to_money(state.points_discount * merchandise / state.subtotal)


def merchandise_money(state: RefundState, merchandise: Decimal) -> Decimal:
    """The customer's money for this much merchandise refunded so far (less its points part)."""
    return merchandise - points_through(state, merchandise)


def named_share(state: RefundState, merchandise: Decimal, delivery: Decimal) -> RefundShare:
    """A refund of lines worth ``merchandise`` at their unit prices, and ``delivery`` of the fee."""
    if merchandise > state.merchandise_left:
        raise RefundDoesNotFit(
            f"the lines named are worth {merchandise}, above the merchandise left to refund "
            f"({state.merchandise_left})"
        )
    if delivery > state.delivery_left:
        raise RefundDoesNotFit(
            f"the delivery part {delivery} is above the delivery fee left to refund "
            f"({state.delivery_left})"
        )
    after = state.refunded_subtotal + merchandise
    money = merchandise_money(state, after) - merchandise_money(state, state.refunded_subtotal)
    return RefundShare(money + delivery, merchandise, delivery)


def pro_rata_share(state: RefundState, amount: Decimal) -> RefundShare:
    """A refund of ``amount`` that names nothing: pro rata over the merchandise and the delivery
    fee left; the one that returns all the money left returns all of both."""
    left = state.money_left
    if amount > left:
        raise RefundDoesNotFit(f"refund {amount} is above what is left to refund ({left})")
    merchandise_money_left = merchandise_money(state, state.subtotal) - merchandise_money(
        state, state.refunded_subtotal
    )
    if amount == left:
        delivery = max(ZERO, amount - merchandise_money_left)
        return RefundShare(amount, state.merchandise_left, delivery)
    delivery = to_money(state.delivery_left * amount / left)
    money = min(amount - delivery, merchandise_money_left)
    merchandise = _merchandise_for_money(state, money)
    return RefundShare(amount, merchandise, amount - money)


def _merchandise_for_money(state: RefundState, money: Decimal) -> Decimal:
    """The least merchandise whose money (less points) is ``money`` more than refunded so far.

    ``merchandise_money`` grows by 0 or 1 cent per cent of merchandise (points never pay more than
    the goods), so every cent up to what is left is reached: a binary search over cents finds it.
    """
    start = state.refunded_subtotal
    target = merchandise_money(state, start) + money
    low, high = 0, int(state.merchandise_left / CENT)
    while low < high:
        middle = (low + high) // 2
        if merchandise_money(state, start + middle * CENT) >= target:
            high = middle
        else:
            low = middle + 1
    return low * CENT
