"""A shop's referral link, with the UTM parameters its link builder adds, and its QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from flask import current_app
from markupsafe import Markup

from ..qr import qr_svg_inline

#: ``shop_referrals.utm_*`` and ``referral_daily_stats.utm_*`` hold this many characters.
UTM_MAX_LENGTH = 100
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


class LinkProblem(ValueError):
    """A UTM value the link cannot carry (the message says which and why)."""


@dataclass(frozen=True)
class ReferralLink:
    code: str
    utm: dict[str, str]  # only the parameters given, in UTM_FIELDS order

    @property
    def url(self) -> str:
        """The absolute link, on ``PUBLIC_URL`` whatever host the page was opened on: it is
        printed and shared outside the portal."""
        base = current_app.config["PUBLIC_URL"].rstrip("/") + "/r/" + quote(self.code, safe="")
        return base + ("?" + urlencode(self.utm) if self.utm else "")

    def _qr(self):
        return segno.make(self.url, error="m")

    def qr_svg_inline(self) -> Markup:
        return qr_svg_inline(self.url)

    def qr_svg(self) -> bytes:
        out = io.BytesIO()
        self._qr().save(out, kind="svg", scale=8, border=4, dark="#000", light="#fff")
        return out.getvalue()

    def qr_png(self) -> bytes:
        out = io.BytesIO()
        self._qr().save(out, kind="png", scale=10, border=4, dark="#000", light="#fff")
        return out.getvalue()


def utm_values(args) -> dict[str, str]:
    """The builder's UTM values from a form or query string, blanks left out;
    :class:`LinkProblem` for one that is too long."""
    values = {}
    for name in UTM_FIELDS:
        text = (args.get(name) or "").strip()
        if len(text) > UTM_MAX_LENGTH:
            label = name.removeprefix("utm_")
            raise LinkProblem(f"The {label} can have at most {UTM_MAX_LENGTH} characters.")
        if text:
            values[name] = text
    return values


def referral_link(code: str, args=None) -> ReferralLink:
    return ReferralLink(code, utm_values(args or {}))
