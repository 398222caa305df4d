"""URLs for the rows of a long list, built once per request and page.

``url_for`` matches the endpoint's rule and escapes every value: tens of microseconds a call, and a
list of 25 products with five links a row made a tenth of the page's time. ``row_url`` builds the
endpoint's URL once per request with a placeholder id (the nil UUID, which no row has) and puts each
row's id in its place: the same URL ``url_for`` gives, for a string replacement.
"""

from __future__ import annotations

import uuid

from flask import Flask, g, url_for

PLACEHOLDER = uuid.UUID(int=0)
_PLACEHOLDER_TEXT = str(PLACEHOLDER)


def row_url(endpoint: str, id_name: str, id_value: uuid.UUID, **values) -> str:
    """``url_for(endpoint, **{id_name: id_value}, **values)`` for a UUID ``id_value``."""
    patterns = g.setdefault("_row_url_patterns", {})
    key = (endpoint, id_name, tuple(sorted(values.items())))
    pattern = patterns.get(key)
    if pattern is None:
        pattern = patterns[key] = url_for(endpoint, **{id_name: PLACEHOLDER}, **values)
    return pattern.replace(_PLACEHOLDER_TEXT, str(id_value))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["row_url"] = row_url
