"""QR codes (segno) as pages and downloads show them."""

from __future__ import annotations

import functools

import segno
from markupsafe import Markup


@functools.lru_cache(maxsize=256)
def qr_svg_inline(data: str) -> Markup:
    """An ``<svg class="qr-code">`` for a page: presentation attributes only (no ``style=``), as
    the CSP forbids inline styles, and no fixed size, so CSS scales it.

    Kept per worker for the last few texts: a shop's referral link is drawn on every view of its
    page, and making the code was a fifth of that page's time (docs/performance.md)."""
    return Markup(
        segno.make(data, error="m").svg_inline(
            scale=4,
            border=4,
            dark="#000",
            light="#fff",
            svgclass="qr-code",
            lineclass=None,
            omitsize=True,
        )
    )
