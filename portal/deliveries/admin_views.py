"""The admin's live board of deliveries under way and drivers online (a map and a list that polls),
and a delivery's page with its history, offers, and the reassign and cancel actions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload, selectinload
from wtforms import TextAreaField

from .. import htmx
from ..extensions import db
from ..inputs import strip_filter
from ..security import restrict_blueprint
from ..shell import toast
from . import admin_actions, states, tracking
from .models import DeliveryAssignment, DeliveryOffer, DeliveryStatusChange

bp = Blueprint("admin_deliveries", __name__, url_prefix="/admin/deliveries")
restrict_blueprint(bp, "admin")


class CancelDeliveryForm(FlaskForm):
    # Required and bounded by the service (admin_actions.clean_reason), which says so beside it.
    reason = TextAreaField("Why cancel it? (the shop sees this)", filters=[strip_filter])


class ReassignForm(FlaskForm):
    """Only the CSRF token: the delivery is in the URL."""


@bp.route("/")
def board():
    return htmx.render(
        "admin/deliveries_board.html",
        "admin/_deliveries_board_list.html",
        board=tracking.board(),
        # The page's list of ended deliveries is not polled: only the page reads it.
        ended=[] if htmx.is_partial_request() else tracking.ended_badly(),
    )


@bp.route("/positions")
def positions():
    """The board map's markers (static/js/delivery_board.js reads them after each list poll)."""
    response = jsonify(tracking.board_positions(tracking.board()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _delivery_or_404(delivery_id) -> DeliveryAssignment:
    assignment = db.session.scalar(
        sa.select(DeliveryAssignment)
        .where(DeliveryAssignment.id == delivery_id)
        .options(
            selectinload(DeliveryAssignment.history).joinedload(DeliveryStatusChange.actor),
            selectinload(DeliveryAssignment.offers).joinedload(DeliveryOffer.driver),
            joinedload(DeliveryAssignment.driver),
            joinedload(DeliveryAssignment.order),
        )
    )
    if assignment is None:
        abort(404, description="There is no such delivery.")
    return assignment


def _detail_context(assignment, **extra) -> dict:
    return {
        "d": assignment,
        "labels": states.LABELS,
        "shop_name": _shop_name(assignment),
        "provider": tracking.provider_name(assignment.provider),
        "tracking_url": tracking.tracking_path(assignment),
        "address_flag": tracking.address_flag(assignment),
        "refusal": admin_actions.refusal,
        "cancel_form": extra.pop("cancel_form", None) or CancelDeliveryForm(formdata=None),
        **extra,
    }


def _shop_name(assignment) -> str:
    return assignment.order.vendor.name if assignment.order is not None else "—"


@bp.route("/<uuid:delivery_id>")
def detail(delivery_id):
    assignment = _delivery_or_404(delivery_id)
    return htmx.render(
        "admin/deliveries_detail.html",
        "admin/_deliveries_detail.html",
        **_detail_context(assignment),
    )


def _respond(
    delivery_id,
    *,
    message: str | None = None,
    problem: str | None = None,
    status: int = 200,
    cancel_form=None,
):
    """HTMX: the delivery's block again, success said by a toast and a refusal inside the block
    beside the action; otherwise back to the delivery's page with the outcome flashed."""
    if not htmx.is_partial_request():
        if problem and status == 422:
            assignment = _delivery_or_404(delivery_id)
            page = render_template(
                "admin/deliveries_detail.html",
                **_detail_context(assignment, problem=problem, cancel_form=cancel_form),
            )
            return page, status
        flash(problem or message, "error" if problem else "success")
        return redirect(url_for(".detail", delivery_id=delivery_id), 303)
    db.session.expire_all()
    assignment = _delivery_or_404(delivery_id)
    body = render_template(
        "admin/_deliveries_detail.html",
        **_detail_context(assignment, problem=problem, cancel_form=cancel_form),
    )
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return toast(response, message) if message and not problem else response


# The services refuse before they write, and a refused action is never committed (the request's
# session ends without a commit), so the refusals below need no rollback.


@bp.post("/<uuid:delivery_id>/reassign")
def reassign(delivery_id):
    if not ReassignForm().validate_on_submit():
        return _respond(delivery_id, problem="The form expired; reload the page.", status=422)
    try:
        admin_actions.reassign_delivery(delivery_id, actor=current_user)
    except admin_actions.DeliveryNotFound:
        abort(404, description="There is no such delivery.")
    except states.IllegalTransition as refused:
        return _respond(delivery_id, problem=str(refused), status=409)
    db.session.commit()
    return _respond(delivery_id, message="The delivery is taken back and offered to other drivers.")


@bp.post("/<uuid:delivery_id>/cancel")
def cancel(delivery_id):
    form = CancelDeliveryForm()
    if not form.validate_on_submit():
        return _respond(delivery_id, problem="The form expired; reload the page.", status=422)
    try:
        assignment = admin_actions.cancel_delivery(
            delivery_id, actor=current_user, reason=form.reason.data
        )
    except admin_actions.DeliveryNotFound:
        abort(404, description="There is no such delivery.")
    except admin_actions.ReasonRefused as refused:
        form.reason.errors = [str(refused)]
        return _respond(delivery_id, problem=str(refused), status=422, cancel_form=form)
    except states.IllegalTransition as refused:
        return _respond(delivery_id, problem=str(refused), status=409)
    with_provider = assignment.provider != "internal"
    db.session.commit()
    message = "The delivery is cancelled" + (
        f"; {tracking.provider_name(assignment.provider)} is asked to cancel it too."
        if with_provider
        else "."
    )
    return _respond(delivery_id, message=message)
