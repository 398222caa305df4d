"""The shop's incoming orders: list, detail with its money, and the shop's steps (HTMX)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
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
from ..status_labels import order_label
from ..vendors.access import current_membership, current_vendor
from . import handling
from .breakdown import commission_status_words, money_breakdown
from .forms import CancelOrderForm, OrderActionForm, OrderFilterForm
from .services import InvalidOrder, OrderError

bp = Blueprint("vendor_orders", __name__, url_prefix="/vendor/orders")
restrict_blueprint(bp, "vendor")

ADDRESS_KEYS = (
    "name",
    "line1",
    "line2",
    "street",
    "city",
    "state",
    "postal_code",
    "zip",
    "country",
)
#: The badge's tone per handling step: what asks for the shop's action stands out.
STEP_TONES = {
    "to_accept": "warning",
    "accepted": "info",
    "ready": "success",
    "completed": "success",
    "delivered": "success",
    "canceled": "critical",
    "refunded": "critical",
}
STEP_LABELS = {
    "to_accept": "To accept",
    "accepted": "Accepted",
    "ready": "Ready for pickup",
    "pending": "Awaiting payment",
    "completed": "Completed",
    "canceled": "Canceled",
    "refunded": "Refunded",
    "delivered": "Delivered",
    "fulfilled": "Fulfilled",
}


#: What a cancellation records: the portal moves no money, so it says so.
CANCELED_MESSAGE = (
    "Order {number} canceled. If it was paid, a refund of what was left of it is recorded and its "
    "commission and fee are reversed; the portal does not return the customer's payment itself."
)
#: The toast of each step that went through (the row or the detail shows the new state).
DONE_MESSAGES = {
    "accept": "Order {number} accepted.",
    "ready": "Order {number} is ready for pickup.",
    "ready_doordash": "Order {number} is ready for pickup; DoorDash delivers it.",
    "cancel": "Order {number} canceled; its refund is recorded, no money moved.",
}


def format_address(address: dict | None) -> str:
    if not address:
        return "—"
    known = [str(address[key]) for key in ADDRESS_KEYS if address.get(key)]
    if known:
        return ", ".join(known)
    return ", ".join(str(value) for value in address.values() if isinstance(value, str | int))


#: The multiplication sign between a line's title and its quantity ("Blue Mug x 2").
TIMES = "\u00d7"


def items_summary(order) -> str:
    """Every line with its quantity, one line of text (truncated in the list)."""
    return ", ".join(f"{item.title} {TIMES} {item.quantity}" for item in order.items)


@bp.context_processor
def helpers() -> dict:
    return {
        "format_address": format_address,
        "handling_step": handling.handling_step,
        "step_label": lambda order: STEP_LABELS.get(
            handling.handling_step(order), order_label(order.status)
        ),
        "step_tone": lambda order: STEP_TONES.get(handling.handling_step(order), "neutral"),
        "customer_name": handling.customer_name,
        "items_summary": items_summary,
        "commission_status_words": commission_status_words,
        "can_take": handling.can_take,
        "blank_cancel_form": _blank_cancel_form,
    }


def _blank_cancel_form() -> CancelOrderForm:
    # One empty form per request serves every row of the list: it is only rendered, never
    # filled, and each row passes its own field ids.
    if "blank_cancel_form" not in g:
        g.blank_cancel_form = CancelOrderForm(formdata=None)
    return g.blank_cancel_form


def _order_or_404(order_id: str):
    try:
        return handling.shop_order(current_vendor().id, order_id)
    except handling.OrderNotFound:
        abort(404, description="There is no such order in your shop.")


# --- list and badge ------------------------------------------------------------------------------


@bp.route("/")
def index():
    vendor = current_vendor()
    form = OrderFilterForm(request.args)
    form.validate()  # errors are shown beside the fields; a bad filter is simply not applied
    at = PageRequest.from_args(request.args)
    filters = form.to_filter()
    result = handling.order_page(vendor.id, filters, at)
    return htmx.render(
        "orders/index.html",
        "orders/_orders.html",
        form=form,
        filters=filters,
        result=result,
        params=form.params(),
    )


@bp.route("/badge")
def badge():
    """Only the "new orders" badge: polled by the nav of every vendor page, so kept tiny."""
    membership = current_membership()  # read with the signed-in user: no statement of its own
    count = handling.new_orders_count(membership.vendor.id) if membership is not None else 0
    response = make_response(render_template("orders/_badge.html", count=count))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- detail --------------------------------------------------------------------------------------


def _detail_context(order, **extra) -> dict:
    return {
        "order": order,
        "delivery_status": handling.delivery_status(order),
        "breakdown": money_breakdown(order),
        "cancel_form": extra.pop("cancel_form", None) or CancelOrderForm(formdata=None),
        **extra,
    }


@bp.route("/<order_id>")
def detail(order_id: str):
    order = _order_or_404(order_id)
    return htmx.render("orders/detail.html", "orders/_detail.html", **_detail_context(order))


# --- the shop's steps ----------------------------------------------------------------------------


def _respond(
    order,
    *,
    status: int = 200,
    message: str | None = None,
    cancel_form=None,
    done: str | None = None,
):
    """Answer an action: the row (list) or the detail block (detail page) for HTMX, with a toast
    saying what was ``done``; a redirect or the detail page otherwise. ``message`` explains a
    refusal right where the click was; a cancel form with errors stays open with them."""
    view = request.args.get("view", "list")
    db.session.expire_all()
    order = handling.shop_order(order.vendor_id, order.id)
    if htmx.is_partial_request():
        if view == "detail":
            body = render_template(
                "orders/_detail.html",
                **_detail_context(order, message=message, cancel_form=cancel_form),
            )
        else:
            body = render_template(
                "orders/_row.html",
                order=order,
                delivery_status=handling.delivery_status(order),
                message=message,
                cancel_form=cancel_form or CancelOrderForm(formdata=None),
                cancel_open=cancel_form is not None and bool(cancel_form.errors),
            )
        response = make_response(body, status)
        response.vary.add("HX-Request")
        if status < 300:
            htmx.trigger(response, "order-updated")
            if done:
                toast(response, done.format(number=order.label))
        return response
    if status >= 300:
        page = render_template(
            "orders/detail.html",
            **_detail_context(order, message=message, cancel_form=cancel_form),
        )
        return page, status
    if view == "detail":
        return redirect(url_for(".detail", order_id=order.id), 303)
    return redirect(url_for(".index"), 303)


def _step(order_id: str, step, action: str):
    order = _order_or_404(order_id)
    form = OrderActionForm()
    if not form.validate_on_submit():
        return _respond(order, status=422, message="The form expired; reload the page.")
    try:
        step(order)
    except OrderError as error:
        db.session.rollback()
        return _respond(order, status=409, message=str(error))
    db.session.commit()
    done = DONE_MESSAGES[action]
    if not htmx.is_partial_request():
        flash(done.format(number=order.label), "success")
    return _respond(order, done=done)


@bp.post("/<order_id>/accept")
def accept(order_id: str):
    return _step(order_id, handling.accept_order, "accept")


@bp.post("/<order_id>/ready")
def ready(order_id: str):
    """Ready for pickup: for the marketplace's drivers, or (``provider=doordash``) for DoorDash."""
    provider = request.form.get("provider") or None
    if provider is not None and provider not in handling.delivery_provider_choices():
        return _respond(
            _order_or_404(order_id),
            status=422,
            message="Choose our drivers or DoorDash for the delivery.",
        )
    return _step(
        order_id,
        lambda order: handling.mark_ready(order, provider=provider),
        "ready_doordash" if provider else "ready",
    )


@bp.post("/<order_id>/cancel")
def cancel(order_id: str):
    order = _order_or_404(order_id)
    form = CancelOrderForm()
    if not form.validate_on_submit():
        return _respond(order, status=422, cancel_form=form)
    try:
        handling.cancel_by_shop(order, form.reason.data, form.note.data, actor=current_user)
    except InvalidOrder as error:
        db.session.rollback()
        return _respond(order, status=422, message=str(error), cancel_form=form)
    except OrderError as error:
        db.session.rollback()
        return _respond(order, status=409, message=str(error))
    db.session.commit()
    if not htmx.is_partial_request():
        flash(CANCELED_MESSAGE.format(number=order.label), "success")
    return _respond(order, done=DONE_MESSAGES["cancel"])
