"""The vendor's referrals page (``/vendor/referrals``): the shop's link, a link builder with its
QR code, and what the link brought in over a chosen period, with a CSV of the table.

Staff see the page like the shop's other pages; only the owner changes the code."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for

from .. import htmx
from ..csv_safety import csv_response
from ..extensions import db
from ..periods import PeriodError
from ..security import restrict_blueprint
from ..vendors.access import current_membership, current_vendor
from . import report as reports
from .links import LinkProblem, referral_link
from .services import regenerate_code

bp = Blueprint("vendor_referrals", __name__, url_prefix="/vendor/referrals")
restrict_blueprint(bp, "vendor")

OWNER_ONLY = "Only the shop's owner can change its referral link."
NO_CODE = "Your shop has no referral code yet."


def _period() -> tuple[reports.ReportPeriod, str | None]:
    """The ``period`` asked for, or the default with the problem to show."""
    try:
        return reports.report_period(request.args.get("period")), None
    except PeriodError as error:
        return reports.report_period(None), str(error)


def _link(vendor, args):
    """The built link and the problem with the builder's values (None: fine)."""
    if not vendor.referral_code:
        return None, None
    try:
        return referral_link(vendor.referral_code, args), None
    except LinkProblem as error:
        return referral_link(vendor.referral_code), str(error)


def _chart(report: reports.ReferralReport) -> dict:
    return {
        "type": "line",
        "labels": [point.week.strftime("%d %b") for point in report.weeks],
        "datasets": [
            {"label": "Visits", "values": [p.visits for p in report.weeks]},
            {"label": "Conversions", "values": [p.conversions for p in report.weeks]},
        ],
    }


@bp.get("/")
def index():
    vendor = current_vendor()
    period, problem = _period()
    report = reports.referral_report(vendor.id, period)
    link, _ = _link(vendor, {})
    context = {
        "vendor": vendor,
        "link": link,
        "shop_link": link,
        "link_problem": None,
        "report": report,
        "chart": _chart(report),
        "choices": reports.picker_choices(period),
        "problem": problem,
        "is_owner": current_membership().is_owner,
        "table_rows": reports.TABLE_ROWS,
    }
    return htmx.render(
        "referrals/index.html", "referrals/_report.html", status=400 if problem else 200, **context
    )


@bp.get("/link")
def build_link():
    """The link builder's result as the vendor types (HTMX), or the whole page without script."""
    vendor = current_vendor()
    link, problem = _link(vendor, request.args)
    if link is None:
        abort(404, description=NO_CODE)
    if not htmx.is_partial_request():
        return redirect(url_for(".index"))
    response = htmx.render(
        "referrals/_link.html", "referrals/_link.html", link=link, link_problem=problem
    )
    return response


def _qr(vendor):
    link, problem = _link(vendor, request.args)
    if link is None:
        abort(404, description=NO_CODE)
    if problem:
        abort(400, description=problem)
    return link


def _qr_name(link) -> str:
    campaign = link.utm.get("utm_campaign", "")
    safe = "".join(ch for ch in campaign if ch.isascii() and (ch.isalnum() or ch in "-_"))[:40]
    return f"referral-{link.code}{'-' + safe if safe else ''}"


QR_KINDS = {"png": "image/png", "svg": "image/svg+xml"}


def _qr_file(kind: str) -> Response:
    """The built link's QR code as a file to print (PNG) or to scale (SVG)."""
    link = _qr(current_vendor())
    body = link.qr_png() if kind == "png" else link.qr_svg()
    response = Response(body, mimetype=QR_KINDS[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{_qr_name(link)}.{kind}"'
    return response


@bp.get("/qr.png")
def qr_png():
    return _qr_file("png")


@bp.get("/qr.svg")
def qr_svg():
    return _qr_file("svg")


@bp.get("/export.csv")
def export_csv():
    vendor = current_vendor()
    period, problem = _period()
    if problem:
        abort(400, description=problem)
    return csv_response(
        f"referrals-{vendor.slug}-{period.key}.csv",
        reports.CSV_HEADER,
        reports.csv_rows(vendor.id, period),
    )


@bp.post("/code")
def new_code():
    vendor = current_vendor()
    if not current_membership().is_owner:
        abort(403, description=OWNER_ONLY)
    code = regenerate_code(vendor)
    db.session.commit()
    message = f"Your new referral code is {code}. Links with the old code no longer count visits."
    flash(message, "success")
    return redirect(url_for(".index"))
