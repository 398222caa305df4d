import uuid

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

from .. import clock, htmx
from ..auth.second_factor import money_action
from ..deliveries import verification as driver_verification
from ..deliveries.providers.services import margin_summary
from ..extensions import db
from ..mail import stored_mail, stored_message
from ..operations import page as operations_page
from ..operations.failed_jobs import failed_job_count
from ..orders import completion, refund_desk
from ..orders.breakdown import money_breakdown
from ..orders.forms import OrderActionForm
from ..orders.models import Order
from ..orders.services import OrderError
from ..payouts.account_state import account_state
from ..payouts.admin_holds import admin_hold_of
from ..security import restrict_blueprint
from ..shell import month_label, toast
from ..tiers import close as month_close
from ..tiers import promotions
from ..tiers.jobs import enqueue_month_close
from ..tiers.models import MonthClose
from ..tiers.services import tier_for_shop
from ..vendors.directory import search_vendors
from ..vendors.forms import VendorTypeForm
from ..vendors.models import Vendor
from ..vendors.profile import VendorTypeError, set_vendor_type
from . import audit, counts
from .forms import (
    AuditFilterForm,
    MonthCloseForm,
    OrderHoldForm,
    OrderRefundForm,
    PayoutPauseForm,
    PromotionForm,
)
from .overview import marketplace_numbers, needs_attention

bp = Blueprint("admin", __name__, url_prefix="/admin")
restrict_blueprint(bp, "admin")


@bp.route("/")
def dashboard():
    today = clock.today()
    numbers = marketplace_numbers(today)
    attention = needs_attention(today, numbers, failed_jobs=failed_job_count())
    return render_template(
        "admin/dashboard.html",
        numbers=numbers,
        attention=attention,
        delivery_margin=margin_summary(today),
    )


@bp.route("/operations")
def operations():
    return render_template("admin/operations.html", **operations_page.page_context())


@bp.route("/counts/<name>")
def count(name):
    """One sidebar count: a fragment the sidebar loads after the page and polls, kept tiny."""
    if name not in counts.COUNTS:
        abort(404, description="There is no such count.")
    response = make_response(render_template("admin/_count.html", count=counts.nav_count(name)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/drivers/")
def drivers():
    """The drivers' verification queue (portal/deliveries/verification.py): waiting, verified or
    all, by background check, searched by name or email; each row opens the driver's page."""
    filters = driver_verification.QueueFilters.parse(request.args)
    page = request.args.get("page", 1, type=int) or 1
    return htmx.render(
        "admin/drivers.html",
        "admin/_driver_rows.html",
        result=driver_verification.driver_queue(filters, page),
        filters=filters,
        check_labels=driver_verification.CHECK_LABELS,
    )


@bp.route("/vendors/")
def vendors():
    text = request.args.get("q", "")
    page = request.args.get("page", 1, type=int) or 1
    return htmx.render(
        "admin/vendors.html", "admin/_vendor_rows.html", result=search_vendors(text, page), q=text
    )


def _vendor_or_404(vendor_id) -> Vendor:
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None:
        abort(404, description="There is no shop with that id.")
    return vendor


def _render_vendor(
    vendor: Vendor, form: PromotionForm, status: int = 200, type_form: VendorTypeForm | None = None
):
    context = {
        "vendor": vendor,
        "shop_tier": tier_for_shop(vendor.id),
        "history": promotions.tier_history(vendor.id),
        "form": form,
        "type_form": type_form or VendorTypeForm(formdata=None, vendor_type=vendor.vendor_type),
        "payouts_account": account_state(vendor.id),
        "payout_pause": admin_hold_of(vendor.id),
        "pause_form": PayoutPauseForm(formdata=None),
    }
    return htmx.render(
        "admin/vendor_detail.html", "admin/_promotion.html", status=status, **context
    )


@bp.route("/vendors/<uuid:vendor_id>")
def vendor_detail(vendor_id):
    return _render_vendor(_vendor_or_404(vendor_id), PromotionForm())


def _vendor_page(vendor_id) -> str:
    return url_for("admin.vendor_detail", vendor_id=vendor_id)


@bp.post("/vendors/<uuid:vendor_id>/promotion")
@money_action(back_to=_vendor_page)
def grant_promotion(vendor_id):
    vendor = _vendor_or_404(vendor_id)
    form = PromotionForm()
    if form.validate_on_submit():
        try:
            promotions.grant_promotional_tier(
                vendor.id,
                tier=form.tier.data,
                reason=form.reason.data,
                # The promotion lasts through the chosen day.
                expires_at=form.expires_on.data,
                granted_by=current_user,
            )
        except promotions.PromotionError as error:
            field = {"expires_at": form.expires_on}.get(error.field) or getattr(
                form, error.field or "tier", form.tier
            )
            field.errors = [*field.errors, str(error)]
        else:
            db.session.commit()
            if not htmx.is_partial_request():
                return redirect(url_for("admin.vendor_detail", vendor_id=vendor.id))
            response = _render_vendor(vendor, PromotionForm(formdata=None))
            return toast(
                htmx.trigger(response, "promotion-granted"),
                f"{vendor.name} is {form.tier.data.title()} until {form.expires_on.data:%d %b %Y}.",
            )
    return _render_vendor(vendor, form, status=422)


@bp.post("/vendors/<uuid:vendor_id>/vendor-type")
@money_action(back_to=_vendor_page)  # the kind of shop picks its platform-fee schedule
def change_vendor_type(vendor_id):
    vendor = _vendor_or_404(vendor_id)
    form = VendorTypeForm()
    if form.validate_on_submit():
        try:
            previous = set_vendor_type(vendor, form.vendor_type.data, by=current_user)
        except VendorTypeError as error:
            form.vendor_type.errors = [*form.vendor_type.errors, str(error)]
        else:
            db.session.commit()
            flash(
                f"Kind of shop changed from {previous} to {vendor.vendor_type} "
                f"by {current_user.email}.",
                "success",
            )
            return redirect(url_for("admin.vendor_detail", vendor_id=vendor.id))
    return _render_vendor(vendor, PromotionForm(formdata=None), status=422, type_form=form)


@bp.route("/month-close", methods=["GET", "POST"])
@money_action  # a close moves shops between tiers, so between commission rates
def month_close_page():
    last_month = clock.this_month().previous()
    form = MonthCloseForm(data={"month": str(last_month)} if request.method == "GET" else None)
    status, close = 200, None
    if form.validate_on_submit():
        period = form.period()
        try:
            close = month_close.request_month_close(
                period.year, period.month, requested_by=current_user
            )
        except month_close.MonthCloseError as error:
            form.month.errors = [*form.month.errors, str(error)]
            status = 422
        else:
            db.session.commit()  # the job must find the row it will update
            enqueue_month_close(close)
    elif request.method == "POST":
        status = 422
    context = {"form": form, "close": close, "closes": month_close.recent_closes()}
    response = htmx.render(
        "admin/month_close.html", "admin/_month_close_form.html", status=status, **context
    )
    if close is not None:
        month = month_label(close.year, close.month)
        toast(response, f"The close of {month} is queued: its progress shows under the form.")
    return response


@bp.route("/month-close/<uuid:close_id>")
def month_close_progress(close_id):
    close = db.session.get(MonthClose, close_id)
    if close is None:
        abort(404, description="There is no such month-end close.")
    # Once the close is over, the history table below the form is refreshed with it.
    closes = month_close.recent_closes() if close.status in ("done", "failed") else None
    context = {"close": close} if closes is None else {"close": close, "closes": closes}
    response = make_response(render_template("admin/_month_close_progress.html", **context))
    response.vary.add("HX-Request")
    return response


# --- orders: an admin's refund, and orders waiting on automatic completion ----------------------


def _order_or_404(order_id) -> Order:
    order = completion.find_order(order_id)
    if order is None:
        abort(404, description="There is no order with that id.")
    return order


def _render_refund(order: Order, form: OrderRefundForm, status: int = 200, **extra):
    desk = refund_desk.refund_desk(order)
    while len(form.quantities.entries) < len(desk.lines):
        form.quantities.append_entry(0)
    context = {
        "desk": desk,
        "form": form,
        "rows": list(zip(desk.lines, form.quantities.entries, strict=False)),
        "breakdown": money_breakdown(order),
        "completes_at": completion.completed_at_of(order),
        "holds": completion.hold_history(order),
        **extra,
    }
    return htmx.render(
        "admin/order_refund.html", "admin/_order_refund_form.html", status=status, **context
    )


def _blank_refund_form() -> OrderRefundForm:
    return OrderRefundForm(formdata=None, data={"kind": "lines", "token": uuid.uuid4().hex})


@bp.route("/orders/<uuid:order_id>/refund", methods=["GET", "POST"])
@money_action
def order_refund(order_id):
    order = _order_or_404(order_id)
    if request.method == "GET":
        return _render_refund(order, _blank_refund_form())
    form = OrderRefundForm()
    if not form.validate_on_submit():
        return _render_refund(order, form, status=422)
    lines = refund_desk.refund_desk(order).lines
    quantities = {
        line.id: entry.data or 0
        for line, entry in zip(lines, form.quantities.entries, strict=False)
    }
    try:
        refund = refund_desk.refund_by_admin(
            order,
            kind=form.kind.data,
            quantities=quantities,
            reason=form.reason.data,
            refund_ref=f"admin-{form.token.data}",
            by=current_user,
        )
    except OrderError as error:
        db.session.rollback()
        return _render_refund(order, form, status=422, message=str(error))
    db.session.commit()
    message = (
        f"Refund of {refund.amount} recorded ({refund.subtotal_amount} of merchandise, "
        f"{refund.delivery_amount} of delivery); commission and fee reversed on it. "
        + refund_desk.money_returned(refund)
    )
    if not htmx.is_partial_request():
        flash(message, "success")
        return redirect(url_for("admin.order_refund", order_id=order.id), 303)
    db.session.expire_all()
    # Said by a toast where the admin is looking: the figures above are already refreshed.
    return toast(_render_refund(_order_or_404(order_id), _blank_refund_form()), message)


@bp.route("/orders/waiting")
def orders_waiting():
    page = request.args.get("page", 1, type=int) or 1
    return htmx.render(
        "admin/orders_waiting.html",
        "admin/_orders_waiting_rows.html",
        result=completion.waiting_orders(page),
        hold_form=OrderHoldForm(formdata=None),
    )


@bp.route("/orders/find")
def find_order():
    """The "open an order" box: an order id to its refund page; anything else shows the box
    again with the reason beside it."""
    text = (request.args.get("order_id") or "").strip()
    if not text:
        return render_template("admin/find_order.html", order_id="")
    try:
        order = completion.find_order(uuid.UUID(text))
    except ValueError:
        error, status = "That is not an order id: paste the whole id of 36 characters.", 422
    else:
        if order is not None:
            return redirect(url_for("admin.order_refund", order_id=order.id))
        error, status = "There is no order with that id.", 404
    return render_template("admin/find_order.html", order_id=text, find_error=error), status


def _waiting_row_response(order: Order, status: int = 200, message: str | None = None, form=None):
    """HTMX: the order's row again, success said by a toast and a refusal in the row beside its
    field; otherwise back to the list, the outcome flashed."""
    if not htmx.is_partial_request():
        flash(message or "Saved.", "error" if status >= 400 else "success")
        return redirect(url_for("admin.orders_waiting"), 303)
    refused = status >= 400
    body = render_template(
        "admin/_order_waiting_row.html",
        row=completion.waiting_row(order),
        order=order,
        hold_form=form or OrderHoldForm(formdata=None),
        message=message if refused else None,
    )
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response if refused else toast(response, message)


def _orders_waiting_page(**_) -> str:
    return url_for("admin.orders_waiting")


# Holding delays the vendor's settlement and payout; releasing lets it go on.
@bp.post("/orders/<uuid:order_id>/hold")
@money_action(back_to=_orders_waiting_page)
def hold_order(order_id):
    order = _order_or_404(order_id)
    form = OrderHoldForm()
    if not form.validate_on_submit():
        message = " ".join(form.reason.errors) or "The form expired; reload the page."
        return _waiting_row_response(order, 422, message, form)
    try:
        completion.hold_order(order, form.reason.data, held_by=current_user)
    except completion.HoldError as error:
        db.session.rollback()
        return _waiting_row_response(order, 422, str(error), form)
    db.session.commit()
    return _waiting_row_response(order, message="Order held: it will not complete by itself.")


@bp.post("/orders/<uuid:order_id>/release")
@money_action(back_to=_orders_waiting_page)
def release_order_hold(order_id):
    order = _order_or_404(order_id)
    if not OrderActionForm().validate_on_submit():
        return _waiting_row_response(order, 422, "The form expired; reload the page.")
    try:
        completion.release_hold(order, released_by=current_user)
    except completion.HoldError as error:
        db.session.rollback()
        return _waiting_row_response(order, 422, str(error))
    db.session.commit()
    return _waiting_row_response(order, message="Hold released.")


@bp.route("/audit/")
def audit_trail():
    """Who did which money action (and second-factor change), on what, and when."""
    form = AuditFilterForm(request.args, actions=audit.recorded_actions(), label=audit.action_label)
    form.validate()  # an unknown action is said beside the filter and not applied
    page = request.args.get("page", 1, type=int) or 1
    return htmx.render(
        "admin/audit.html",
        "admin/_audit_rows.html",
        form=form,
        result=audit.audit_page(form.chosen(), page),
        audit=audit,
    )


@bp.route("/mail/")
def sent_mail():
    """The messages the file mail backend wrote (development and the demo send no real mail)."""
    messages = stored_mail()
    return render_template("admin/sent_mail.html", messages=messages)


@bp.route("/mail/<message_id>")
def sent_message(message_id: str):
    message = stored_message(message_id)
    if message is None:
        abort(404, description="There is no such message in the mail folder.")
    return render_template("admin/sent_mail.html", messages=[message], opened=message)


from . import payouts as _payouts  # noqa: E402, F401  (its routes are on bp)
