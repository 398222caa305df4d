"""The operations page's actions (admins only): run a scheduled job now, follow its progress,
retry or delete a failed RQ job. The page itself is ``admin.operations``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for

from .. import htmx
from ..security import restrict_blueprint
from ..shell import toast
from . import history, page
from .commission_retention import aggregated_payout_records

bp = Blueprint("operations", __name__, url_prefix="/admin/operations")
restrict_blueprint(bp, "admin")


def _job_row(name: str):
    try:
        line = page.job_line(name)
    except page.OperationsError as error:
        abort(404, description=str(error))
    response = make_response(render_template("admin/_ops_job_row.html", line=line))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<name>")
def job(name):
    """One job's row: polled every two seconds while the job waits or runs."""
    return _job_row(name)


@bp.post("/jobs/<name>/run")
def run_job(name):
    try:
        page.run_now(name)
    except page.OperationsError as error:
        abort(404, description=str(error))
    message = f"{name} is queued; its row follows it."
    if not htmx.is_partial_request():
        flash(message, "success")
        return redirect(url_for("admin.operations") + "#jobs")
    return toast(_job_row(name), message)


def _failed_section(message: str):
    if not htmx.is_partial_request():
        flash(message, "success")
        return redirect(url_for("admin.operations") + "#failed-jobs")
    context = page.page_context()
    response = make_response(
        render_template(
            "admin/_ops_failed_jobs.html",
            failed_jobs=context["failed_jobs"],
            failed_count=context["failed_count"],
            queues=context["queues"],
        )
    )
    return toast(response, message)


@bp.post("/failed/<queue>/<job_id>/retry")
def retry_failed(queue, job_id):
    try:
        page.retry_failed(queue, job_id)
    except page.OperationsError as error:
        abort(404, description=str(error))
    return _failed_section("The job is back on its queue.")


@bp.post("/failed/<queue>/<job_id>/delete")
def delete_failed(queue, job_id):
    try:
        page.delete_failed(queue, job_id)
    except page.OperationsError as error:
        abort(404, description=str(error))
    return _failed_section("The failed job is deleted.")


@bp.app_template_global("aggregated_payout_records")
def aggregated_payout_records_global(payout_id):
    """For the payout page: its records that retention aggregated into monthly summaries."""
    return aggregated_payout_records(payout_id)


@bp.app_template_global("archived_customer_orders")
def archived_customer_orders_global(customer_id):
    """For the customer's page: their orders that moved to the archive."""
    return history.customer_archived_orders(customer_id)


@bp.app_template_global("summarised_commission_months")
def summarised_commission_months_global():
    """For the shop's statement: the signed-in shop's months aggregated after a year."""
    from ..vendors.access import current_vendor

    return history.summarised_months(current_vendor().id)
