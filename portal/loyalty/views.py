"""The points pages: the customer's own (``/account/points``) and the admins' (``/admin/points``).

The customer's page names no customer in its URL: it shows the signed-in customer's points and
nobody else's. Both pages list the ledger newest first with "load more": the page includes the
rows partial that an HTMX request for the next rows gets (``before``: the last row's cursor).
"""

from __future__ import annotations

from flask import Blueprint, request

from .. import htmx
from ..customers.models import Customer
from ..customers.views import signed_in_customer
from ..extensions import db
from ..pagination import Cursor
from ..security import restrict_blueprint
from . import admin_views, points, statement

bp = Blueprint("points", __name__, url_prefix="/account/points")
restrict_blueprint(bp, "customer")

admin_bp = Blueprint("admin_loyalty", __name__, url_prefix="/admin/points")
restrict_blueprint(admin_bp, "admin")

ROWS = "loyalty/_history_rows.html"


@bp.app_context_processor
def _points_helpers() -> dict:
    return {"tier_bar": statement.tier_bar}


def _render(page: str, partial: str, page_only, **context):
    """``page`` with ``page_only()``'s context too, or for an HTMX request only ``partial``: the
    next rows (or search results) do not pay for the page's summary."""
    if not htmx.is_partial_request():
        context |= page_only()
    return htmx.render(page, partial, **context)


def _history_context(owner_id, endpoint: str, **args) -> dict:
    return {
        "history": statement.history_page(owner_id, Cursor.parse(request.args.get("before"))),
        "more_endpoint": endpoint,
        "more_args": args,
        # Opened by the "load more" link without JavaScript: older rows, not the newest.
        "paged": request.args.get("before") is not None,
    }


@bp.route("/")
def index():
    customer = signed_in_customer()
    return _render(
        "loyalty/points.html",
        ROWS,
        lambda: {
            "summary": points.summary(customer.id),
            "pending": points.pending_earns(customer.id),
        },
        **_history_context(customer.id, "points.index"),
    )


@admin_bp.route("/", endpoint="index")
def admin_index():
    text = request.args.get("q", "")
    page = request.args.get("page", 1, type=int) or 1
    return _render(
        "loyalty/admin_index.html",
        "loyalty/_customer_rows.html",
        lambda: {"liability": points.liability()},
        result=statement.search_customers(text, page),
        q=text,
    )


@admin_bp.route("/customers/<uuid:customer_id>")
def customer(customer_id):
    """The customer's points for an admin, with the core's adjust form (``admin_views``). After an
    adjustment (its toast) the figures below the form ask for themselves again: an HTMX request
    aimed at ``#points-figures`` gets them, one aimed at "load more" the next rows."""
    found = db.get_or_404(Customer, customer_id, description="There is no customer with that id.")
    whole_page = not htmx.is_partial_request()
    figures = whole_page or request.headers.get("HX-Target") == "points-figures"
    context = {
        "customer": found,
        "admin_view": True,
        **_history_context(found.id, "admin_loyalty.customer", customer_id=found.id),
    }
    if figures:
        context |= {
            "summary": points.summary(found.id),
            "pending": points.pending_earns(found.id),
            "holds": statement.holds(found.id),
            "shortfalls": points.shortfalls(found.id),
        }
    if whole_page:
        context |= admin_views.adjust_context(found)
    partial = "loyalty/_admin_figures.html" if figures else ROWS
    response = htmx.render("loyalty/admin_customer.html", partial, **context)
    response.vary.add("HX-Target")  # the figures or the next rows, from one URL
    return response
