"""Admin pages for product obfuscation: classifications, each product's obfuscation, and a
preview of what each outside party sees (``/admin/obfuscation``, admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from .. import htmx
from ..extensions import db
from ..security import restrict_blueprint
from ..shell import toast
from . import services
from .forms import (
    ClassificationEditForm,
    ClassificationForm,
    ObfuscationForm,
    ProductSearchForm,
    RemoveForm,
)

bp = Blueprint("obfuscation", __name__, url_prefix="/admin/obfuscation")
restrict_blueprint(bp, "admin")

AUDIENCE_FIELDS = ("applies_to_payments", "applies_to_deliveries", "applies_to_receipts")


def _audiences(form) -> dict[str, bool]:
    return {name: bool(form[name].data) for name in AUDIENCE_FIELDS}


def _field_error(form, error: services.ObfuscationError) -> None:
    field = form[error.field] if error.field and error.field in form else None
    target = field or next(iter(form))
    target.errors = [*target.errors, str(error)]


def _index(form: ClassificationForm, status: int = 200):
    search = ProductSearchForm(request.args)
    search.validate()
    q = search.q.data if not search.q.errors else None
    result = services.product_page(
        q, only_obfuscated=bool(search.only.data), page=request.args.get("page", 1, type=int) or 1
    )
    return htmx.render(
        "obfuscation/index.html",
        "obfuscation/_products.html",
        status=status,
        rows=services.classifications(),
        form=form,
        search=search,
        result=result,
        params={"q": q or None, "only": "y" if search.only.data else None},
    )


@bp.route("/")
def index():
    return _index(ClassificationForm(formdata=None))


@bp.post("/classifications")
def create_classification():
    form = ClassificationForm()
    if form.validate_on_submit():
        try:
            row = services.create_classification(
                form.classification_code.data, form.description.data, **_audiences(form)
            )
        except services.ObfuscationError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Classification “{row.classification_code}” added.", "success")
            return redirect(url_for(".index"), 303)
    return _index(form, 422)


def _classification_or_404(code: str):
    row = services.classification(code)
    if row is None:
        abort(404, description="There is no such classification.")
    return row


@bp.route("/classifications/<code>", methods=["GET", "POST"])
def classification(code: str):
    row = _classification_or_404(code)
    form = ClassificationEditForm(obj=row if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.update_classification(
                    row, description=form.description.data, **_audiences(form)
                )
            except services.ObfuscationError as error:
                db.session.rollback()
                _field_error(form, error)
            else:
                db.session.commit()
                flash(f"Classification “{row.classification_code}” saved.", "success")
                return redirect(url_for(".classification", code=row.classification_code), 303)
        status = 422
    return htmx.render(
        "obfuscation/classification.html",
        "obfuscation/_classification_form.html",
        status=status,
        row=row,
        form=form,
    )


def _product_or_404(product_id):
    product = services.product_for_obfuscation(product_id)
    if product is None:
        abort(404, description="There is no such product.")
    return product


def _codes() -> list[tuple[str, str]]:
    return [
        (r.classification.classification_code, r.classification.classification_code)
        for r in services.classifications()
    ]


def _product_page(product, form, status=200):
    return htmx.render(
        "obfuscation/product.html",
        "obfuscation/_product_body.html",
        status=status,
        product=product,
        form=form,
        preview=services.preview(product),
        labels=services.AUDIENCE_LABELS,
        remove_form=RemoveForm(formdata=None),
    )


@bp.route("/products/<uuid:product_id>")
def product(product_id):
    product = _product_or_404(product_id)
    form = ObfuscationForm(formdata=None, obj=product.obfuscation, codes=_codes())
    return _product_page(product, form)


@bp.post("/products/<uuid:product_id>")
def save_product(product_id):
    product = _product_or_404(product_id)
    form = ObfuscationForm(codes=_codes())
    if form.validate_on_submit():
        try:
            services.save_obfuscation(
                product,
                classification_code=form.classification_code.data,
                name=form.obfuscated_name.data,
                description=form.obfuscated_description.data,
                category=form.obfuscated_category.data,
                brand=form.obfuscated_brand.data,
            )
        except services.ObfuscationError as error:
            db.session.rollback()
            product = _product_or_404(product_id)
            _field_error(form, error)
        else:
            db.session.commit()
            db.session.expire_all()
            product = _product_or_404(product_id)
            if not htmx.is_partial_request():
                flash("Obfuscation saved: outside parties see the neutral values.", "success")
                return redirect(url_for(".product", product_id=product.id), 303)
            response = _product_page(
                product, ObfuscationForm(formdata=None, obj=product.obfuscation, codes=_codes())
            )
            return toast(response, "Obfuscation saved: outside parties see the neutral values.")
    return _product_page(product, form, 422)


@bp.post("/products/<uuid:product_id>/remove")
def remove_product(product_id):
    product = _product_or_404(product_id)
    if not RemoveForm().validate_on_submit():
        return _product_page(product, ObfuscationForm(formdata=None, codes=_codes()), 422)
    services.remove_obfuscation(product)
    db.session.commit()
    flash("Obfuscation removed: outside parties see the product's real details.", "success")
    return redirect(url_for(".product", product_id=product.id), 303)
