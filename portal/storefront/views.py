"""``/catalog/``: the unified catalog for anyone, searched as you type (no sign-in), phone first."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from .. import htmx
from .search import SORTS, CatalogQuery, search_catalog

bp = Blueprint("storefront", __name__, url_prefix="/catalog")


@bp.get("/")
def index():
    query = CatalogQuery.from_args(request.args)
    result = search_catalog(
        query,
        per_page=current_app.config["STOREFRONT_PER_PAGE"],
        max_results=current_app.config["STOREFRONT_MAX_RESULTS"],
    )
    return htmx.render(
        "storefront/index.html",
        "storefront/_results.html",
        result=result,
        sorts=SORTS,
        # An HTMX answer also redraws the filters' counts, out of band (storefront/_facets.html).
        oob=htmx.is_partial_request(),
    )
