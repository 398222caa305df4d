"""The admin's payout runs: the list, a run's vendors, starting a run, retrying a failed payout.

Each money action (start a run, retry a payout) is one view function behind the second-factor
gate (``money_action``); each writes its audit row in the transaction that does the action.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from ..auth.second_factor import money_action
from ..extensions import db
from ..payouts import admin_holds, runs, summary
from ..payouts.driver_models import DRIVER_HOLD_WORDS
from ..payouts.jobs import enqueue_payout_run
from ..payouts.models import Payout, PayoutRun
from ..payouts.notices import HOLD_WORDS
from .forms import PayoutPauseForm
from .views import _vendor_or_404, bp


def _run_or_404(run_id) -> PayoutRun:
    run = db.session.get(PayoutRun, run_id)
    if run is None:
        abort(404, description="There is no such payout run.")
    return run


@bp.route("/payouts/")
def payout_runs():
    return render_template(
        "admin/payout_runs.html",
        runs=summary.recent_runs(),
        running=runs.running_run(),
        failed=summary.failed_payout_rows(),
    )


def _back_to_payouts(**_view_args) -> str:
    return url_for("admin.payout_runs")


@bp.route("/payouts/runs", methods=["POST"])
@money_action(back_to=_back_to_payouts)
def start_payout_run():
    run = runs.start_run(trigger="admin", started_by=current_user)
    db.session.commit()  # the job must find the row (and the audit row lands with it)
    enqueue_payout_run(run.id)
    flash("The payout run is queued: its progress shows below.", "success")
    return redirect(url_for("admin.payout_run", run_id=run.id), code=303)


def _run_context(run: PayoutRun) -> dict:
    return {
        "run": run,
        "summary": summary.run_summary(run),
        "payouts": summary.run_payout_rows(run.id),
        "holds": summary.run_hold_rows(run.id),
        "driver_payouts": summary.run_payout_rows(run.id, drivers=True),
        "driver_holds": summary.run_hold_rows(run.id, drivers=True),
        "hold_words": HOLD_WORDS,
        "driver_hold_words": DRIVER_HOLD_WORDS,
        "limit": summary.DETAIL_LIMIT,
    }


@bp.route("/payouts/runs/<uuid:run_id>")
def payout_run(run_id):
    return render_template("admin/payout_run.html", **_run_context(_run_or_404(run_id)))


@bp.route("/payouts/runs/<uuid:run_id>/progress")
def payout_run_progress(run_id):
    """The run's figures and vendors, polled while it runs; the last answer stops the polling."""
    response = make_response(
        render_template("admin/_payout_run_body.html", **_run_context(_run_or_404(run_id)))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/payouts/<uuid:payout_id>/retry", methods=["POST"])
@money_action(back_to=_back_to_payouts)
def retry_payout(payout_id):
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        abort(404, description="There is no such payout.")
    try:
        runs.retry_payout(payout.id, actor=current_user)
    except (runs.PayoutError, runs.RunLocked) as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.refresh(payout)
        payee = payout.vendor.name if payout.vendor else payout.driver.full_name
        if payout.status == "paid":
            flash(f"The payout to {payee} is sent.", "success")
        else:
            flash(f"The payout to {payee} is {payout.status}: {payout.failure_reason}", "error")
    target = (
        url_for("admin.payout_run", run_id=payout.batch_id)
        if payout.batch_id
        else url_for("admin.payout_runs")
    )
    return redirect(target, code=303)


def _back_to_vendor(vendor_id, **_view_args) -> str:
    return url_for("admin.vendor_detail", vendor_id=vendor_id)


@bp.post("/vendors/<uuid:vendor_id>/payouts/pause")
@money_action(back_to=_back_to_vendor)
def pause_payouts(vendor_id):
    vendor = _vendor_or_404(vendor_id)
    form = PayoutPauseForm()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0], "error")
        return redirect(_back_to_vendor(vendor.id), code=303)
    try:
        admin_holds.place_hold(vendor, note=form.note.data, actor=current_user)
    except runs.PayoutError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{vendor.name}'s payouts are paused: runs hold them until you lift it.", "success")
    return redirect(_back_to_vendor(vendor.id), code=303)


@bp.post("/vendors/<uuid:vendor_id>/payouts/lift")
@money_action(back_to=_back_to_vendor)
def lift_payout_pause(vendor_id):
    vendor = _vendor_or_404(vendor_id)
    try:
        admin_holds.lift_hold(vendor, actor=current_user)
    except runs.PayoutError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{vendor.name}'s payouts are no longer paused: the next run pays them.", "success")
    return redirect(_back_to_vendor(vendor.id), code=303)
