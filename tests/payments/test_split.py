"""The one split of a checkout-level amount over its orders, against an independent model in
whole cents and fractions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.payments.split import split_in_proportion, split_within


def model(amount_cents: int, weight_cents: list[int]) -> list[int]:
    """Exact shares as fractions, each rounded half-up, the difference to the first largest."""
    total = sum(weight_cents) or None
    weights = weight_cents if total else [1] * len(weight_cents)
    total = sum(weights)
    shares = [int(Fraction(amount_cents * w, total) + Fraction(1, 2)) for w in weights]
    largest = weights.index(max(weights))
    shares[largest] += amount_cents - sum(shares)
    if shares[largest] < 0:
        shares = [amount_cents * w // total for w in weights]
        shares[largest] += amount_cents - sum(shares)
    return shares


def dollars(cents: int) -> Decimal:
    return Decimal(cents) / 100


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        ("10.00", ["10.00", "20.00"], ["3.33", "6.67"]),  # 3.333.., 6.666.. -> 6.67
        ("0.01", ["30.00", "30.00", "30.00"], ["0.01", "0.00", "0.00"]),  # equal: the first
        ("100.00", ["33.33", "33.33", "33.34"], ["33.33", "33.33", "33.34"]),
        ("1.00", ["1.00", "1.00", "1.00"], ["0.34", "0.33", "0.33"]),
        ("0.02", ["1.00", "1.00", "1.00", "1.00"], ["0.02", "0.00", "0.00", "0.00"]),
        ("5.00", ["0.00", "0.00"], ["2.50", "2.50"]),
        ("7.05", ["12.50", "0.00", "37.50"], ["1.76", "0.00", "5.29"]),  # 1.7625, 5.2875
    ],
)
def test_awkward_cents(amount, weights, expected):
    shares = split_in_proportion(Decimal(amount), [Decimal(w) for w in weights])
    assert shares == [Decimal(e) for e in expected]


@given(
    st.integers(min_value=0, max_value=10**8),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=6),
)
def test_matches_the_model_and_adds_up(amount_cents, weight_cents):
    shares = split_in_proportion(dollars(amount_cents), [dollars(w) for w in weight_cents])
    assert [int(share * 100) for share in shares] == model(amount_cents, weight_cents)
    assert sum(shares) == dollars(amount_cents) and all(share >= 0 for share in shares)


def test_within_rooms_a_full_order_takes_its_room_and_the_rest_goes_on_in_proportion():
    # Subtotals 10 and 30; order one has 15 left (its delivery fee), order two 30.
    shares = split_within(
        Decimal("45.00"), [Decimal("10"), Decimal("30")], [Decimal("15"), Decimal("30")]
    )
    assert shares == [Decimal("15.00"), Decimal("30.00")]
    # 3.75 and 11.25 by subtotal, but order two has only 3 left: it takes 3, order one the 12.
    shares = split_within(
        Decimal("15.00"), [Decimal("10"), Decimal("30")], [Decimal("15"), Decimal("3")]
    )
    assert shares == [Decimal("12.00"), Decimal("3.00")]


def test_within_refuses_more_than_the_rooms_hold():
    with pytest.raises(ValueError, match="does not fit"):
        split_within(Decimal("10.00"), [Decimal("1")], [Decimal("9.99")])


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6)
        ),
        min_size=1,
        max_size=5,
    ),
    st.data(),
)
def test_within_never_exceeds_a_room_and_adds_up(orders, data):
    rooms = [dollars(room) for _, room in orders]
    amount_cents = data.draw(st.integers(min_value=0, max_value=sum(room for _, room in orders)))
    shares = split_within(dollars(amount_cents), [dollars(w) for w, _ in orders], rooms)
    assert sum(shares) == dollars(amount_cents)
    assert all(Decimal(0) <= share <= room for share, room in zip(shares, rooms, strict=True))
