from flask import Blueprint, render_template

from .. import clock
from ..security import restrict_blueprint
from ..tiers.dashboard import vendor_dashboard
from .access import current_vendor
from .onboarding import onboarding_steps

bp = Blueprint("vendor", __name__, url_prefix="/vendor")
restrict_blueprint(bp, "vendor")


@bp.route("/")
def dashboard():
    vendor = current_vendor()
    summary = vendor_dashboard(vendor.id, clock.today())
    chart = {
        "labels": [month.label for month in summary.sales_by_month],
        "values": [str(month.total_sales) for month in summary.sales_by_month],
        "label": "Sales ($)",
    }
    steps = onboarding_steps(vendor, summary.first_steps)
    return render_template(
        "vendors/dashboard.html",
        vendor=vendor,
        summary=summary,
        chart=chart,
        steps=steps if not all(step.done for step in steps) else None,
    )
