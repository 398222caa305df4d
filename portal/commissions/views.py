from flask import Blueprint, request

from .. import htmx
from ..csv_safety import csv_response
from ..pagination import PageRequest
from ..security import restrict_blueprint
from ..vendors.access import current_vendor
from .forms import StatementFilterForm
from .statements import CSV_HEADER, statement_csv_rows, statement_months, statement_page

bp = Blueprint("commissions", __name__, url_prefix="/vendor/commissions")
restrict_blueprint(bp, "vendor")


def _filters() -> StatementFilterForm:
    form = StatementFilterForm(request.args)
    form.validate()  # errors are shown beside the fields; a bad filter is simply not applied
    return form


@bp.route("/")
def statement():
    vendor = current_vendor()
    form = _filters()
    result = statement_page(vendor.id, form.to_filter(), PageRequest.from_args(request.args))
    return htmx.render(
        "commissions/statement.html",
        "commissions/_statement_rows.html",
        form=form,
        result=result,
        months=statement_months(vendor.id),
    )


@bp.route("/export.csv")
def export_csv():
    vendor = current_vendor()
    filters = _filters().to_filter()
    suffix = f"-{filters.year}-{filters.month:02d}" if filters.year else ""
    return csv_response(
        f"commissions-{vendor.slug}{suffix}.csv", CSV_HEADER, statement_csv_rows(vendor.id, filters)
    )
