"""The shop's deliveries: its orders' deliveries with status, driver, ETA and provider, and the
reason of a cancelled or returned one. The shop's owner and staff see it; only the shop's own."""

from __future__ import annotations

from flask import Blueprint, request
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional

from .. import htmx
from ..forms import choices
from ..pagination import PageRequest
from ..security import restrict_blueprint
from ..vendors.access import current_vendor
from . import tracking

bp = Blueprint("vendor_deliveries", __name__, url_prefix="/vendor/deliveries")
restrict_blueprint(bp, "vendor")


class DeliveryFilterForm(FlaskForm):
    """The list's filter, read from the query string (GET changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=choices([("", "All deliveries"), *tracking.STATUS_FILTERS]),
        validators=[Optional()],
    )

    def chosen(self) -> str | None:
        return self.status.data if self.status.data and not self.status.errors else None

    def params(self) -> dict:
        return {"status": self.status.data} if self.chosen() else {}


@bp.route("/")
def index():
    vendor = current_vendor()
    form = DeliveryFilterForm(request.args)
    form.validate()  # an unknown status is said beside the filter and not applied
    result = tracking.vendor_deliveries(
        vendor.id, form.chosen(), PageRequest.from_args(request.args)
    )
    return htmx.render(
        "deliveries/vendor_deliveries.html",
        "deliveries/_vendor_deliveries.html",
        form=form,
        result=result,
        params=form.params(),
    )
