"""The ``?next=`` target after sign-in: a path on this site, judged as a browser would read it."""

from __future__ import annotations

from urllib.parse import urlsplit

# A browser drops tabs and newlines anywhere in a URL and trims control characters and spaces at
# its ends, and reads "\" as "/": "/\t/evil.example" and "/\\evil.example" both become
# "//evil.example", another host. Judge the URL after that same normalisation.
_REMOVED = str.maketrans("", "", "\t\n\r")


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None."""
    if not target:
        return None
    normalised = target.translate(_REMOVED).strip("".join(map(chr, range(0x21)))).replace("\\", "/")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in normalised):
        return None
    if not normalised.startswith("/") or normalised.startswith("//"):
        return None
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return None
    return normalised
