"""GTIN / UPC / EAN codes: 8, 12, 13 or 14 digits whose last digit is the GS1 check digit."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


class InvalidGtin(ValueError):
    """The code is not a GTIN; the message says why, for the vendor."""


def check_digit(body: str) -> int:
    """The GS1 check digit of ``body`` (the code without its last digit).

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the sum up to a
    multiple of ten.
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(text: str | None) -> str | None:
    """The code with spaces and dashes removed, or None when empty; raises :class:`InvalidGtin`."""
    if text is None:
        return None
    code = text.strip().replace(" ", "").replace("-", "")
    if not code:
        return None
    if not code.isascii() or not code.isdigit():
        raise InvalidGtin("A GTIN has digits only.")
    if len(code) not in GTIN_LENGTHS:
        raise InvalidGtin(f"A GTIN has 8, 12, 13 or 14 digits, not {len(code)}.")
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise InvalidGtin(f"The check digit of {code} is wrong (it should end in {expected}).")
    return code


def is_valid_gtin(text: str | None) -> bool:
    try:
        return normalize_gtin(text) is not None
    except InvalidGtin:
        return False
