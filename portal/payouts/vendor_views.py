"""The vendor's payouts page (``/vendor/payouts``). Staff of the shop see it; only its owner acts
(sets up payouts, continues the setup, opens the Stripe dashboard, sets the mail preferences)."""

from __future__ import annotations

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

from ..csv_safety import csv_response
from ..extensions import db
from ..security import content_security_policy, restrict_blueprint
from ..vendors.access import current_membership, current_owner_vendor, current_vendor
from . import onboarding, vendor_page
from .stripe_redirects import back_from_onboarding, to_stripe

bp = Blueprint("payouts", __name__, url_prefix="/vendor/payouts")
restrict_blueprint(bp, "vendor")

PAGE = "payouts.index"


def _to_stripe(make_url):
    return to_stripe(make_url, page=PAGE)


@bp.route("/")
def index():
    vendor = current_vendor()
    response = make_response(
        render_template(
            "payouts/index.html",
            vendor=vendor,
            page=vendor_page.overview(vendor.id),
            is_owner=current_membership().is_owner,
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
    vendor = current_owner_vendor()
    return _to_stripe(lambda: onboarding.onboarding_link(vendor, user_id=current_user.id))


@bp.route("/onboarding/refresh")
def onboarding_refresh():
    """Stripe sends the vendor here when a link was used or expired: another link."""
    vendor = current_owner_vendor()
    return _to_stripe(lambda: onboarding.onboarding_link(vendor, user_id=current_user.id))


@bp.route("/onboarding/return")
def onboarding_return():
    """Back from Stripe's hosted onboarding: re-read the account, then show the page."""
    return back_from_onboarding(current_owner_vendor(), page=PAGE)


@bp.post("/dashboard")
def stripe_dashboard():
    vendor = current_owner_vendor()
    try:
        return _to_stripe(lambda: onboarding.dashboard_link(vendor))
    except LookupError:
        abort(404, description="This shop has no Stripe account yet.")


@bp.post("/notices")
def notices():
    vendor = current_owner_vendor()
    vendor_page.set_notices(
        vendor.id,
        payout_sent=request.form.get("payout_sent") == "on",
        hold_changed=request.form.get("hold_changed") == "on",
    )
    db.session.commit()
    flash("Your payout mail preferences were saved.", "success")
    return redirect(url_for("payouts.index") + "#notices")


@bp.route("/<uuid:payout_id>")
def detail(payout_id: uuid.UUID):
    vendor = current_vendor()
    payout = vendor_page.vendor_payout(vendor.id, payout_id)
    if payout is None:
        abort(404)
    return render_template(
        "payouts/detail.html",
        payout=payout,
        records=vendor_page.payout_records(vendor.id, payout_id),
    )


@bp.route("/export.csv")
def export_csv():
    vendor = current_vendor()
    return csv_response(
        f"payouts-{vendor.slug}.csv",
        vendor_page.CSV_HEADER,
        vendor_page.history_csv_rows(vendor.id),
    )
