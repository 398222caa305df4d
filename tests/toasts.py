"""Reading what a response asks the page to show in a toast (``portal.shell.toast``)."""

from __future__ import annotations

import json


def toast_of(response) -> str | None:
    """The toast's message in the response's ``HX-Trigger`` header, or None when it has none."""
    header = response.headers.get("HX-Trigger")
    if not header:
        return None
    toast = json.loads(header).get("toast")
    return toast["message"] if toast else None
