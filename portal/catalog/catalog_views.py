"""The vendor's catalog pages (``/vendor/products/catalog``): each product's master and status,
and remap requests (ask, with a note; read the outcome)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import htmx
from ..extensions import db
from ..pagination import PageRequest
from ..security import restrict_blueprint
from ..shell import toast
from ..vendors.access import current_vendor
from . import remaps, vendor_catalog
from .products import get_vendor_product
from .remap_forms import RemapRequestForm

bp = Blueprint("vendor_catalog", __name__, url_prefix="/vendor/products/catalog")
restrict_blueprint(bp, "vendor")


@bp.context_processor
def _note_limit():
    return {"note_max": remaps.NOTE_MAX}


def _index(refused: dict | None = None, status: int = 200):
    vendor = current_vendor()
    result = vendor_catalog.catalog_page(
        vendor.id,
        status=request.args.get("status", ""),
        q=request.args.get("q", ""),
        page=request.args.get("page", 1, type=int) or 1,
    )
    return htmx.render(
        "catalog/vendor_catalog.html",
        "catalog/_vendor_rows.html",
        status,
        result=result,
        statuses=vendor_catalog.STATUSES,
        refused=refused,
    )


@bp.get("/")
def index():
    return _index()


@bp.post("/<uuid:product_id>/remap")
def request_remap(product_id):
    vendor = current_vendor()
    product = get_vendor_product(vendor.id, product_id)
    if product is None or product.status != "active":
        abort(404, description="There is no such product in your shop.")
    form = RemapRequestForm()
    error = None
    if form.validate_on_submit():
        try:
            remaps.request_remap(vendor, product, form.note.data, requested_by=current_user)
        except remaps.RemapError as refused:
            error = str(refused)
        else:
            db.session.commit()
            message = f"Remap of “{product.title}” requested: an admin will look at it."
            row = vendor_catalog.catalog_row(vendor.id, product.id)
            if not htmx.is_partial_request():
                flash(message, "success")
                return redirect(request.referrer or url_for(".index"), 303)
            response = make_response(render_template("catalog/_vendor_row.html", row=row))
            return toast(response, message)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors) or None
    refused = {"product_id": product.id, "error": error, "note": form.note.data}
    if htmx.is_partial_request():
        row = vendor_catalog.catalog_row(vendor.id, product.id)
        return render_template("catalog/_vendor_row.html", row=row, refused=refused), 422
    return _index(refused, 422)


@bp.get("/requests")
def requests():
    vendor = current_vendor()
    result = remaps.vendor_requests(vendor.id, PageRequest.from_args(request.args))
    return htmx.render(
        "catalog/vendor_requests.html", "catalog/_vendor_requests.html", result=result
    )
