"""The one place that knows how HTMX talks to us.

Request headers come from htmx-flask (``request.htmx``, set up in ``portal.extensions``). The
response side stays ours: htmx-flask's ``make_response(trigger=...)`` replaces ``HX-Trigger``,
where :func:`trigger` merges events into it.

A view renders the whole page, or only its fragment when HTMX asked for it; every response that
can differ on that carries ``Vary: HX-Request`` so caches keep the two apart.
"""

from __future__ import annotations

import json

from flask import Response, make_response, render_template, request


def is_partial_request() -> bool:
    """True for an HTMX request that wants a fragment (not boosted, not a history restore).

    The headers are read by htmx-flask (``request.htmx``); a boosted link or a history restore
    after a cache miss wants the whole page.
    """
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(page: str, partial: str, status: int = 200, **context) -> Response:
    """Render ``page`` for a normal request and only ``partial`` for an HTMX one."""
    template = partial if is_partial_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, event: str, detail: object = None) -> Response:
    """Add an ``HX-Trigger`` event, merging with any already set."""
    existing = response.headers.get("HX-Trigger")
    events: dict = {}
    if existing:
        try:
            events = json.loads(existing)
        except ValueError:
            events = {name.strip(): None for name in existing.split(",")}
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def retarget_to_alerts(response: Response) -> Response:
    """Send an error fragment to the page's alert region instead of the element that asked."""
    response.headers["HX-Retarget"] = "#alerts"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
