"""Money: Decimal everywhere, rounded half-up to the cent once, where an amount is stored."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to the cent, half-up. Floats are refused: they cannot represent cents exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal, int or str")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    """Integer cents, as payment processors expect."""
    return int(to_money(value) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def money_text(amount: Decimal | int | None) -> str:
    """An amount as every page shows it: ``$1,234.50``, ``-$4.99``, ``—`` for none."""
    if amount is None:
        return "—"
    rounded = to_money(amount)
    return f"{'-' if rounded < 0 else ''}${abs(rounded):,.2f}"


def rate_text(rate: Decimal) -> str:
    """A rate as a percentage: ``0.1250`` is ``12.50%``, ``0.1000`` is ``10%``."""
    return f"{rate * 100:.2f}".replace(".00", "") + "%"
