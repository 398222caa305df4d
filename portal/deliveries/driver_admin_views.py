"""The admin's driver verification: one driver at a time (their details, the document, the
verdict form), then the next driver of the queue. The queue itself is ``admin.drivers``
(portal/admin/views.py), which lists ``verification.driver_queue``.

Admins only, CSRF on the form, each verdict audited (``driver.verification``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField

from ..admin import counts
from ..extensions import db
from ..forms import choices
from ..inputs import strip_filter
from ..security import restrict_blueprint
from . import positions, verification
from .models import BACKGROUND_CHECK_STATUSES
from .models_drivers import DriverDocument

bp = Blueprint("admin_drivers", __name__, url_prefix="/admin/drivers")
restrict_blueprint(bp, "admin")


class VerdictForm(FlaskForm):
    insurance_verified = BooleanField("Insurance verified (the document is valid and current)")
    background_check_status = SelectField(
        "Background check",
        choices=choices((s, verification.CHECK_LABELS[s]) for s in BACKGROUND_CHECK_STATUSES),
    )
    # Bounded by the service (DRIVER_VERIFICATION_NOTE_MAX), which says so beside it.
    note = TextAreaField(
        "Note to the driver (they see it on their dashboard)", filters=[strip_filter]
    )


def _page(driver, form, *, filters, status: int = 200, problem: str | None = None):
    document = db.session.scalar(
        sa.select(DriverDocument).where(
            DriverDocument.driver_id == driver.id, DriverDocument.kind == "insurance"
        )
    )
    return (
        render_template(
            "admin/driver_verify.html",
            driver=driver,
            document=document,
            form=form,
            filters=filters,
            problem=problem,
            check_labels=verification.CHECK_LABELS,
            positions=positions.recent_positions(driver.id, limit=20),
            history_days=current_app.config["POSITION_HISTORY_DAYS"],
        ),
        status,
    )


def _driver_or_404(driver_id):
    driver = verification.driver_or_none(driver_id)
    if driver is None:
        abort(404, description="There is no such driver.")
    return driver


@bp.route("/<uuid:driver_id>")
def detail(driver_id):
    driver = _driver_or_404(driver_id)
    form = VerdictForm(
        formdata=None,
        insurance_verified=driver.insurance_verified,
        background_check_status=driver.background_check_status,
        note=driver.verification_note,
    )
    return _page(driver, form, filters=verification.QueueFilters.parse(request.args))


@bp.post("/<uuid:driver_id>/verdict")
def verdict(driver_id):
    filters = verification.QueueFilters.parse(request.args)
    driver = _driver_or_404(driver_id)
    form = VerdictForm()
    if not form.validate_on_submit():
        return _page(
            driver,
            form,
            filters=filters,
            status=422,
            problem="The form expired or a choice is missing; check it and save again.",
        )
    try:
        outcome = verification.record_verdict(
            driver.id,
            insurance_verified=bool(form.insurance_verified.data),
            background_check_status=form.background_check_status.data,
            note=form.note.data,
            actor=current_user,
        )
    except verification.VerdictRefused as refused:  # refused before anything is written
        return _page(driver, form, filters=filters, status=422, problem=str(refused))
    db.session.commit()
    counts.forget("drivers-to-verify")  # the sidebar's count says so at its next poll
    flash(outcome.message, "success")
    following = verification.next_in_queue(outcome.driver, filters)
    if following is None:
        flash("No other driver in this queue.", "info")
        return redirect(url_for("admin.drivers", **filters.as_args()), 303)
    return redirect(url_for(".detail", driver_id=following.id, **filters.as_args()), 303)
