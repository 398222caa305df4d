"""Text normalisation shared by the features: one lowercase form, tokens, model/part numbers,
numbers with units."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-/.][a-z0-9]+)*")
_ALNUM = re.compile(r"[^a-z0-9]")
_HAS_LETTER = re.compile(r"[a-z]")
_HAS_DIGIT = re.compile(r"\d")
_INCH = re.compile(r"(\d)\s*(?:''|\"|”|″)")

# Unit spellings to one unit; kept generic (sizes, storage, power, frequency, resolution...).
UNITS = {
    "inch": "in",
    "inches": "in",
    "in": "in",
    "''": "in",
    "'": "in",
    "ft": "ft",
    "feet": "ft",
    "foot": "ft",
    "mm": "mm",
    "cm": "cm",
    "m": "m",
    "gb": "gb",
    "tb": "tb",
    "mb": "mb",
    "kb": "kb",
    "mp": "mp",
    "megapixel": "mp",
    "megapixels": "mp",
    "ghz": "ghz",
    "mhz": "mhz",
    "hz": "hz",
    "khz": "khz",
    "w": "w",
    "watt": "w",
    "watts": "w",
    "v": "v",
    "volt": "v",
    "volts": "v",
    "mah": "mah",
    "lb": "lb",
    "lbs": "lb",
    "pound": "lb",
    "pounds": "lb",
    "oz": "oz",
    "kg": "kg",
    "g": "g",
    "rpm": "rpm",
    "p": "p",
    "x": "x",
    "ms": "ms",
    "db": "db",
    "pack": "pack",
    "pk": "pack",
    "pc": "pack",
    "pcs": "pack",
    "port": "port",
    "ports": "port",
    "channel": "ch",
    "ch": "ch",
    "cu": "cu",
    "qt": "qt",
    "l": "l",
    "ml": "ml",
}
_UNIT_WORDS = "|".join(
    sorted((re.escape(u) for u in UNITS if u != "'" and u != "''"), key=len, reverse=True)
)
_QUANTITY = re.compile(rf"(\d+(?:\.\d+)?)\s*-?\s*({_UNIT_WORDS})\b")
# '500gb', '1080p', '4x' carry letters and digits but are quantities, not model numbers.
_QUANTITY_TOKEN = re.compile(rf"\d+(?:\.\d+)?(?:{_UNIT_WORDS}|st|nd|rd|th|s)")


def normalize(text: str | None) -> str:
    """Lowercase, accents folded, inch marks spelt out, whitespace collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _INCH.sub(r"\1 inch ", text)
    text = text.replace("&", " and ")
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """Word tokens of normalised text; hyphenated and slashed runs stay one token."""
    return _TOKEN.findall(text)


def compact(text: str) -> str:
    """Letters and digits only: 'DMC-FX500 k/h' -> 'dmcfx500kh', for substring tests on codes."""
    return _ALNUM.sub("", text)


def is_code(token: str) -> bool:
    return bool(
        _HAS_LETTER.search(token)
        and _HAS_DIGIT.search(token)
        and not _QUANTITY_TOKEN.fullmatch(token)
    )


def codes(text: str) -> set[str]:
    """Model/part-number tokens: both letters and digits, hyphens/slashes/dots removed.

    A hyphenated token gives its joined form and every part that is itself a code
    ('lm-af30u3' -> {'lmaf30u3', 'af30u3'}), since shops split codes differently.
    """
    found: set[str] = set()
    for token in tokens(text):
        joined = compact(token)
        if len(joined) >= 3 and is_code(joined):
            found.add(joined)
        parts = re.split(r"[-/.]", token)
        if len(parts) > 1:
            for part in parts:
                if len(part) >= 3 and is_code(part):
                    found.add(part)
    return found


def numbers(text: str) -> set[str]:
    """Bare numbers of three or more digits (series numbers such as 'harmony 890')."""
    return {token for token in tokens(text) if token.isdigit() and len(token) >= 3}


def quantities(text: str) -> set[tuple[float, str]]:
    """(value, unit) pairs: '42 inch', '500gb', '13.5 megapixel' -> (42.0, 'in'), ..."""
    return {(float(value), UNITS[unit]) for value, unit in _QUANTITY.findall(text)}
