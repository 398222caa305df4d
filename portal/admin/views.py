from datetime import date, datetime, time

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
from ..security import restrict_blueprint
from ..tiers import close as month_close
from ..tiers import promotions
from ..tiers.jobs import enqueue_month_close
from ..tiers.models import MonthClose
from ..tiers.services import tier_for_shop
from ..vendors.directory import search_vendors
from ..vendors.forms import VendorTypeForm
from ..vendors.models import Vendor
from ..vendors.profile import VendorTypeError, set_vendor_type
from .forms import MonthCloseForm, PromotionForm
from .overview import marketplace_numbers, needs_attention, partition_rows

bp = Blueprint("admin", __name__, url_prefix="/admin")
restrict_blueprint(bp, "admin")


@bp.route("/")
def dashboard():
    today = date.today()
    numbers = marketplace_numbers(today)
    return render_template(
        "admin/dashboard.html", numbers=numbers, attention=needs_attention(today, numbers)
    )


@bp.route("/operations")
def operations():
    return render_template("admin/operations.html", partitions=partition_rows())


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
    }
    return htmx.render(
        "admin/vendor_detail.html", "admin/_promotion.html", status=status, **context
    )


@bp.route("/vendors/<uuid:vendor_id>")
def vendor_detail(vendor_id):
    return _render_vendor(_vendor_or_404(vendor_id), PromotionForm())


@bp.post("/vendors/<uuid:vendor_id>/promotion")
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
                expires_at=datetime.combine(form.expires_on.data, time.max).replace(microsecond=0),
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
            return htmx.trigger(response, "promotion-granted")
    return _render_vendor(vendor, form, status=422)


@bp.post("/vendors/<uuid:vendor_id>/vendor-type")
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


def _previous_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@bp.route("/month-close", methods=["GET", "POST"])
def month_close_page():
    form = MonthCloseForm(
        data={"month": _previous_month(date.today())} if request.method == "GET" else None
    )
    status, close = 200, None
    if form.validate_on_submit():
        year, month = form.year_month()
        try:
            close = month_close.request_month_close(year, month, requested_by=current_user)
        except month_close.MonthCloseError as error:
            form.month.errors = [*form.month.errors, str(error)]
            status = 422
        else:
            db.session.commit()  # the job must find the row it will update
            enqueue_month_close(close)
    elif request.method == "POST":
        status = 422
    context = {"form": form, "close": close, "closes": month_close.recent_closes()}
    return htmx.render(
        "admin/month_close.html", "admin/_month_close_form.html", status=status, **context
    )


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
