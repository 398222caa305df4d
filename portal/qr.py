"""QR codes (segno) as pages and downloads show them."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg_inline(data: str) -> Markup:
    """An ``<svg class="qr-code">`` for a page: presentation attributes only (no ``style=``), as
    the CSP forbids inline styles, and no fixed size, so CSS scales it."""
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
