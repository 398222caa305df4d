"""A driver's payouts (``/driver/payouts``): the Stripe account, the next payout, past payouts,
and the earnings statement with its CSV. Drivers see only their own; admins open any driver's
statement (``/admin/drivers/<id>/earnings``). Onboarding is the vendors' service
(``onboarding.py``) with the driver as the account holder."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    make_response,
    render_template,
    request,
)

from ..clock import this_month
from ..csv_safety import csv_response
from ..deliveries.views import current_driver
from ..extensions import db
from ..periods import Period, PeriodError
from ..security import content_security_policy, restrict_blueprint
from . import driver_page, onboarding
from .stripe_redirects import back_from_onboarding, to_stripe

bp = Blueprint("driver_payouts", __name__, url_prefix="/driver/payouts")
restrict_blueprint(bp, "driver")
admin_bp = Blueprint("admin_driver_pay", __name__, url_prefix="/admin/drivers")
restrict_blueprint(admin_bp, "admin")


PAGE = "driver_payouts.index"


def _to_stripe(make_url):
    return to_stripe(make_url, page=PAGE)


@bp.route("/")
def index():
    driver = current_driver()
    response = make_response(
        render_template(
            "payouts/driver_index.html", driver=driver, page=driver_page.overview(driver.id)
        )
    )
    # "Set up payouts" and the dashboard button answer with a redirect to Stripe's hosted pages.
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_action=onboarding.hosted_origins()
    )
    return response


@bp.post("/setup")
def setup():
    """ "Set up payouts" and "Continue setup": a fresh Account Link, the account made once."""
    driver = current_driver()
    return _to_stripe(lambda: onboarding.onboarding_link(driver, user_id=driver.user_id))


@bp.route("/onboarding/refresh")
def onboarding_refresh():
    driver = current_driver()
    return _to_stripe(lambda: onboarding.onboarding_link(driver, user_id=driver.user_id))


@bp.route("/onboarding/return")
def onboarding_return():
    return back_from_onboarding(current_driver(), page=PAGE)


@bp.post("/dashboard")
def stripe_dashboard():
    driver = current_driver()
    try:
        return _to_stripe(lambda: onboarding.dashboard_link(driver))
    except LookupError:
        abort(404, description="You have no Stripe account yet.")


# --- the earnings statement -------------------------------------------------------------------


def _month() -> tuple[Period | None, str | None]:
    """The ``month`` filter: ``YYYY-MM``, ``all``, or none (this month); a problem to show."""
    text = request.args.get("month", "").strip()
    if text == "all":
        return None, None
    if not text:
        return this_month(), None
    try:
        return Period.parse(text), None
    except PeriodError as error:
        return this_month(), str(error)


def _statement_page(driver, *, admin: bool):
    month, problem = _month()
    return (
        render_template(
            "payouts/driver_earnings.html",
            driver=driver,
            statement=driver_page.statement(driver.id, month),
            months=driver_page.statement_months(driver.id),
            problem=problem,
            admin=admin,
        ),
        400 if problem else 200,
    )


def _csv(driver):
    month, problem = _month()
    if problem:
        abort(400, description=problem)
    suffix = f"-{month}" if month else ""
    return csv_response(
        f"earnings{suffix}.csv",
        driver_page.CSV_HEADER,
        driver_page.statement_csv_rows(driver.id, month),
    )


@bp.route("/earnings")
def earnings():
    return _statement_page(current_driver(), admin=False)


@bp.route("/earnings.csv")
def earnings_csv():
    return _csv(current_driver())


def _driver_or_404(driver_id):
    from ..deliveries.models import Driver

    driver = db.session.get(Driver, driver_id)
    if driver is None:
        abort(404, description="There is no such driver.")
    return driver


@admin_bp.route("/<uuid:driver_id>/earnings")
def driver_earnings(driver_id):
    return _statement_page(_driver_or_404(driver_id), admin=True)


@admin_bp.route("/<uuid:driver_id>/earnings.csv")
def driver_earnings_csv(driver_id):
    return _csv(_driver_or_404(driver_id))
