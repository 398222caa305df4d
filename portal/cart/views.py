"""``/cart``: anyone shopping (guests and customers) adds, changes and removes what they buy."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, url_for

from .. import htmx
from ..auth.next_url import safe_next
from ..extensions import db
from . import service
from .current import current_cart, refusal
from .forms import AddToCartForm, QuantityForm, RemoveForm

bp = Blueprint("cart", __name__, url_prefix="/cart")


def _page(status: int = 200, error: str | None = None):
    cart = current_cart()
    return htmx.render(
        "cart/page.html",
        "cart/_cart.html",
        status,
        summary=service.summary(cart),
        error=error or refusal(),
        quantity_form=QuantityForm(),
        remove_form=RemoveForm(),
    )


@bp.get("/")
def show():
    return _page()


@bp.get("/count")
def badge():
    return str(service.count(current_cart()) or "")


def _product_id(text: str | None) -> uuid.UUID:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise service.CartError("That product is not on sale.") from None


@bp.post("/add")
def add_item():
    form = AddToCartForm()
    back = safe_next(form.next.data) or url_for("cart.show")
    if not form.validate_on_submit():
        message, status = "The form expired: reload the page and try again.", 400
    else:
        try:
            cart = current_cart(create=True)
            service.add(
                cart, _product_id(form.product_id.data), service.parse_quantity(form.quantity.data)
            )
        except service.CartError as refused:
            db.session.rollback()
            message, status = str(refused), 422
        else:
            db.session.commit()
            message, status = "Added to your cart.", 200
    if not htmx.is_partial_request():
        flash(message, "success" if status == 200 else "error")
        return redirect(back)
    response = htmx.render(
        "cart/_added.html", "cart/_added.html", status, message=message, ok=status == 200
    )
    return htmx.trigger(response, "cart-updated") if status == 200 else response


@bp.post("/items/<uuid:product_id>")
def update_item(product_id: uuid.UUID):
    form = QuantityForm()
    error = None
    if not form.validate_on_submit():
        error = "The form expired: reload the page and try again."
    else:
        try:
            cart = current_cart()
            if cart is None:
                raise service.CartError("Your cart is empty.")
            service.set_quantity(
                cart, product_id, service.parse_quantity(form.quantity.data, allow_zero=True)
            )
        except service.CartError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
    return _changed(error)


@bp.post("/items/<uuid:product_id>/remove")
def remove_item(product_id: uuid.UUID):
    error = None
    if not RemoveForm().validate_on_submit():
        error = "The form expired: reload the page and try again."
    else:
        cart = current_cart()
        if cart is not None:
            service.remove(cart, product_id)
            db.session.commit()
    return _changed(error)


def _changed(error: str | None):
    if not htmx.is_partial_request():
        if error:
            flash(error, "error")
        return redirect(url_for("cart.show"))
    response = _page(422 if error else 200, error)
    return htmx.trigger(response, "cart-updated")
