"""Splitting one checkout-level amount over the checkout's vendor orders (docs/payments.md).

A points discount, a refund of the whole charge, a dispute of it: each is split over the orders
in proportion to their subtotals, each share rounded half-up to the cent, and the cents that
rounding gained or lost go to the largest order (the first of equals), so the shares add up to
the amount exactly. ``split_within`` does the same when each order can take at most so much (what
is left to refund of it): a share above its order's room is cut to it and the rest is split
again over the others, in the same proportion.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from ..money import to_money

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def split_in_proportion(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``amount`` in shares proportional to ``weights`` (in their order), half-up cents, the
    remainder to the largest weight. All weights zero: split equally, the same way."""
    amount = to_money(amount)
    if not weights:
        if amount:
            raise ValueError("nothing to split an amount over")
        return []
    if any(weight < 0 for weight in weights):
        raise ValueError("weights are not negative")
    total = sum(weights, ZERO)
    if total == 0:
        weights, total = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [to_money(amount * weight / total) for weight in weights]
    largest = max(range(len(weights)), key=lambda index: (weights[index], -index))
    shares[largest] += amount - sum(shares, ZERO)
    if shares[largest] < 0:
        # A few cents over many orders can round up past the amount; then every share is
        # rounded down instead, and the cents left go to the largest, as before.
        shares = [(amount * weight / total).quantize(CENT, ROUND_DOWN) for weight in weights]
        shares[largest] += amount - sum(shares, ZERO)
    return shares


def split_within(
    amount: Decimal, weights: Sequence[Decimal], rooms: Sequence[Decimal]
) -> list[Decimal]:
    """As ``split_in_proportion``, no share above its ``rooms`` entry; ``ValueError`` when the
    rooms together hold less than ``amount``."""
    amount = to_money(amount)
    if sum(rooms, ZERO) < amount:
        raise ValueError(f"{amount} does not fit in what is left ({sum(rooms, ZERO)})")
    shares = [ZERO] * len(weights)
    open_ = [index for index in range(len(weights)) if rooms[index] > 0]
    left = amount
    while left > 0:
        split = split_in_proportion(left, [weights[index] for index in open_])
        over = [index for index, share in zip(open_, split, strict=True) if share > rooms[index]]
        if not over:
            for index, share in zip(open_, split, strict=True):
                shares[index] += share
            return shares
        for index in over:  # full: it takes all its room, the others share the rest
            shares[index] = rooms[index]
            left -= rooms[index]
        open_ = [index for index in open_ if index not in over]
    return shares
