"""The vendor's products pages: list with inline edit, the product form, CSV import and export."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import htmx
from ..csv_safety import csv_response
from ..extensions import db
from ..media import ImageRejected, delete_media
from ..security import restrict_blueprint
from ..shell import toast
from ..vendors.access import current_vendor
from . import products as svc
from .forms import ImageForm, ImportForm, ProductForm
from .gtin import InvalidGtin, normalize_gtin
from .imports import (
    COLUMNS,
    ImportRejected,
    export_rows,
    format_csv_attributes,
    recent_imports,
    submit_import,
    vendor_import,
)
from .jobs import enqueue_product_import
from .match_jobs import start_match_run

bp = Blueprint("products", __name__, url_prefix="/vendor/products")
restrict_blueprint(bp, "vendor")


def _product_or_404(vendor, product_id: uuid.UUID):
    product = svc.get_vendor_product(vendor.id, product_id)
    if product is None:
        abort(404, description="There is no such product in your shop.")
    return product


def _list_context(vendor):
    filters = svc.ProductFilter.from_args(request.args)
    page = request.args.get("page", 1, type=int) or 1
    return {
        "filters": filters,
        "result": svc.product_page(vendor.id, filters, page=page),
        "brands": svc.vendor_brands(vendor.id),
        "categories": svc.vendor_categories(vendor.id),
        "sorts": svc.SORTS,
    }


@bp.route("/")
def index():
    vendor = current_vendor()
    return htmx.render("products/index.html", "products/_rows.html", **_list_context(vendor))


# --- inline edit of price and inventory -----------------------------------------------------


def _check_field(field: str) -> None:
    if field not in svc.INLINE_FIELDS:
        abort(404)


@bp.get("/<uuid:product_id>/inline/<field>")
def inline_cell(product_id, field):
    """The cell as text (``?edit=1``: as a small form)."""
    _check_field(field)
    product = _product_or_404(current_vendor(), product_id)
    editing = request.args.get("edit") == "1"
    value = str(getattr(product, field))
    return render_template(
        "products/_inline_cell.html", product=product, field=field, editing=editing, value=value
    )


@bp.post("/<uuid:product_id>/inline/<field>")
def inline_update(product_id, field):
    _check_field(field)
    product = _product_or_404(current_vendor(), product_id)
    text = request.form.get("value", "")
    try:
        svc.update_inline(product, field, text)
    except svc.ProductError as error:
        return render_template(
            "products/_inline_cell.html",
            product=product,
            field=field,
            editing=True,
            value=text,
            error=str(error),
        ), 422
    db.session.commit()
    response = make_response(
        render_template(
            "products/_inline_cell.html", product=product, field=field, editing=False, saved=True
        )
    )
    htmx.trigger(response, "product-updated", {"id": str(product.id), "field": field})
    return toast(response, f"{field.capitalize()} of “{product.title}” saved.")


# --- create, edit, archive ------------------------------------------------------------------


def _form_data(product) -> dict:
    return {
        "title": product.title,
        "description": product.description or "",
        "sku": product.sku or "",
        "gtin": product.gtin or "",
        "brand": product.brand.name if product.brand else "",
        "category": product.category.name if product.category else "",
        "price": str(product.price),
        "inventory": str(product.inventory),
        "attributes": svc.format_attribute_lines(product.attributes),
    }


def _form_context(form, product=None):
    return {
        "form": form,
        "product": product,
        "brand_names": svc.all_brand_names(),
        "category_names": svc.all_category_names(),
        "images": svc.product_images(product) if product else [],
        "image_form": ImageForm(formdata=None),
    }


@bp.route("/new", methods=["GET", "POST"])
def new():
    vendor = current_vendor()
    form = ProductForm()
    if request.method == "GET":
        return render_template("products/form.html", **_form_context(form))
    if form.validate_on_submit():
        try:
            product = svc.save_product(vendor, form.to_data())
        except svc.ProductError as error:
            getattr(form, error.field or "title").errors.append(str(error))
        else:
            start_match_run("products", vendor_id=vendor.id, product_ids=[product.id])
            db.session.commit()
            flash(f"“{product.title}” was created.", "success")
            return redirect(url_for("products.edit", product_id=product.id))
    return render_template("products/form.html", **_form_context(form)), 422


@bp.route("/<uuid:product_id>/edit", methods=["GET", "POST"])
def edit(product_id):
    vendor = current_vendor()
    product = _product_or_404(vendor, product_id)
    if request.method == "GET":
        form = ProductForm(data=_form_data(product))
        return render_template("products/form.html", **_form_context(form, product))
    form = ProductForm()
    if form.validate_on_submit():
        try:
            svc.save_product(vendor, form.to_data(), product)
        except svc.ProductError as error:
            getattr(form, error.field or "title").errors.append(str(error))
        else:
            start_match_run("products", vendor_id=vendor.id, product_ids=[product.id])
            db.session.commit()
            flash("Your changes were saved.", "success")
            return redirect(url_for("products.edit", product_id=product.id))
    return render_template("products/form.html", **_form_context(form, product)), 422


@bp.post("/validate/<field>")
def validate_field(field):
    """Inline validation while typing: only the error text (empty when fine)."""
    vendor = current_vendor()
    value = (request.form.get(field) or "").strip()
    message = ""
    if field == "gtin":
        try:
            normalize_gtin(value)
        except InvalidGtin as error:
            message = str(error)
    elif field == "sku":
        except_id = svc._uuid_or_none(request.args.get("product"))
        if value and svc.sku_taken(vendor.id, value, except_id):
            message = f"You already have a product with SKU {value!r}."
    else:
        abort(404)
    return message


@bp.post("/<uuid:product_id>/archive")
def archive(product_id):
    return _set_archived(product_id, True)


@bp.post("/<uuid:product_id>/unarchive")
def unarchive(product_id):
    return _set_archived(product_id, False)


def _set_archived(product_id, archived: bool):
    product = _product_or_404(current_vendor(), product_id)
    svc.set_archived(product, archived)
    db.session.commit()
    if htmx.is_partial_request():
        response = make_response(
            render_template("products/_row.html", product=product, mapped=svc.is_mapped(product.id))
        )
        htmx.trigger(response, "product-updated", {"id": str(product.id)})
        return toast(response, _archive_message(product, archived))
    flash(_archive_message(product, archived), "success")
    return redirect(request.referrer or url_for("products.index"))


def _archive_message(product, archived: bool) -> str:
    if archived:
        return f"“{product.title}” is archived: customers no longer see it."
    return f"“{product.title}” is restored: customers see it again."


# --- images --------------------------------------------------------------------------------


@bp.post("/<uuid:product_id>/images")
def add_image(product_id):
    vendor = current_vendor()
    product = _product_or_404(vendor, product_id)
    image_form = ImageForm()
    if image_form.validate_on_submit():
        try:
            svc.add_image(
                product, image_form.image.data, current_app.config["PRODUCT_IMAGE_MAX_PIXELS"]
            )
        except (ImageRejected, svc.ProductError) as error:
            image_form.image.errors = [str(error)]
        else:
            db.session.commit()
            flash("The photo was added.", "success")
            return redirect(url_for("products.edit", product_id=product.id))
    form = ProductForm(formdata=None, data=_form_data(product))
    context = _form_context(form, product) | {"image_form": image_form}
    return render_template("products/form.html", **context), 422


@bp.post("/<uuid:product_id>/images/<uuid:image_id>/delete")
def remove_image(product_id, image_id):
    product = _product_or_404(current_vendor(), product_id)
    path = svc.remove_image(product, image_id)
    if path is None:
        abort(404, description="There is no such photo.")
    db.session.commit()
    delete_media(path)
    flash("The photo was removed.", "success")
    return redirect(url_for("products.edit", product_id=product.id))


# --- CSV import and export ------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    vendor = current_vendor()
    form = ImportForm()
    context = {"form": form, "errors": [], "product_import": None}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            upload = form.file.data
            try:
                product_import = submit_import(
                    vendor, upload.read(), filename=upload.filename, requested_by=current_user
                )
            except ImportRejected as rejected:
                status = 422
                context["errors"] = rejected.errors
                context["filename"] = upload.filename
            else:
                db.session.commit()
                enqueue_product_import(product_import)
                context["product_import"] = product_import
                context["form"] = ImportForm(formdata=None)
    context["imports"] = recent_imports(vendor.id)
    return htmx.render("products/import.html", "products/_import_result.html", status, **context)


@bp.get("/import/<uuid:import_id>")
def import_progress(import_id):
    vendor = current_vendor()
    product_import = vendor_import(vendor.id, import_id)
    if product_import is None:
        abort(404, description="There is no such import.")
    return render_template("products/_import_progress.html", product_import=product_import)


@bp.get("/export.csv")
def export():
    vendor = current_vendor()
    return csv_response(f"products-{vendor.slug}.csv", COLUMNS, export_rows(vendor.id))


@bp.app_template_filter("csv_attributes")
def _csv_attributes(value):
    return format_csv_attributes(value)
