"""The admin's points adjustment of one customer: ``/admin/customers/<id>/points/adjust``.

The form is a partial (``admin/customers/_points_adjust_form.html``) the admin's customer page
includes; this GET shows it on a small page of its own, so the action also works without it.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from .. import htmx
from ..auth.second_factor import money_action
from ..customers.models import Customer
from ..extensions import db
from ..security import restrict_blueprint
from ..shell import toast
from . import points
from .forms import PointsAdjustForm

bp = Blueprint("admin_points", __name__, url_prefix="/admin/customers")
restrict_blueprint(bp, "admin")


def _customer_or_404(customer_id: uuid.UUID) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def adjust_context(customer: Customer, form: PointsAdjustForm | None = None, **extra) -> dict:
    """What the partial needs; the customer page passes the same."""
    return {
        "customer": customer,
        "points_summary": points.summary(customer.id),
        "adjust_form": form or PointsAdjustForm(formdata=None),
        **extra,
    }


def _adjust_page(customer_id, **_) -> str:
    return url_for("admin_points.adjust_points", customer_id=customer_id)


@bp.get("/<uuid:customer_id>/points/adjust")
def adjust_points(customer_id):
    customer = _customer_or_404(customer_id)
    return render_template("admin/customers/points_adjust.html", **adjust_context(customer))


def _answer(customer: Customer, form, status: int = 200, message: str | None = None):
    """HTMX: the partial again (a refusal beside its field, success in a toast); otherwise
    back to the page, the outcome flashed."""
    if not htmx.is_partial_request():
        if status >= 400:
            body = render_template(
                "admin/customers/points_adjust.html",
                **adjust_context(customer, form, message=message),
            )
            return make_response(body, status)
        flash(message, "success")
        return redirect(url_for("admin_points.adjust_points", customer_id=customer.id), 303)
    refused = status >= 400
    body = render_template(
        "admin/customers/_points_adjust_form.html",
        **adjust_context(customer, form if refused else None, message=message if refused else None),
    )
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response if refused else toast(response, message)


# An adjustment changes what the marketplace owes in points: a money action (second factor).
@bp.post("/<uuid:customer_id>/points/adjust")
@money_action(back_to=_adjust_page)
def adjust_points_post(customer_id):
    customer = _customer_or_404(customer_id)
    form = PointsAdjustForm()
    if not form.validate_on_submit():
        expired = "csrf_token" in form.errors
        return _answer(
            customer, form, 422, "The form expired; reload the page." if expired else None
        )
    try:
        row = points.adjust(customer.id, form.points.data, form.reason.data, actor=current_user)
    except points.PointsError as error:
        db.session.rollback()
        return _answer(customer, form, 422, str(error))
    db.session.commit()
    verb = "Added" if row.amount > 0 else "Took away"
    return _answer(
        customer,
        form,
        message=f"{verb} {abs(row.amount):,} points; the balance is {row.balance_after:,}.",
    )
