"""The driver's own account pages: their insurance document (upload, replace) and their position
history. On the driver blueprint (``/driver/...``, drivers only); views parse, call one service,
render."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from ..extensions import db
from . import documents, positions, verification
from .views import bp, current_driver


@bp.app_template_global("position_token")
def _position_token(driver) -> str:
    return positions.position_token(driver)


@bp.app_template_global("driver_standing")
def _driver_standing(driver):
    return verification.standing(driver)


class DocumentForm(FlaskForm):
    # Checked by the service (portal/deliveries/documents.py), which says what is wrong.
    document = FileField("Insurance document (PDF, or a photo as JPEG, PNG or WebP)")


def _documents_page(form, status: int = 200):
    driver = current_driver()
    return (
        render_template(
            "deliveries/driver_documents.html",
            driver=driver,
            form=form,
            standing=verification.standing(driver),
            max_mb=current_app.config["DRIVER_DOCUMENT_MAX_BYTES"] // (1024 * 1024),
        ),
        status,
    )


@bp.route("/documents", methods=["GET", "POST"])
def documents_page():
    form = DocumentForm()
    if not form.is_submitted():
        return _documents_page(form)
    if not form.validate():
        form.document.errors = ["The form expired; reload the page and send the file again."]
        return _documents_page(form, 422)
    upload = form.document.data
    if upload is None or not getattr(upload, "filename", ""):
        form.document.errors = ["Choose the file of your insurance document."]
        return _documents_page(form, 422)
    driver = current_driver()
    replacing = documents.document_of(driver) is not None
    try:
        documents.store_document(driver, upload.stream, filename=upload.filename)
    except documents.DocumentRefused as refused:  # refused before anything is written
        form.document.errors = [str(refused)]
        return _documents_page(form, 422)
    db.session.commit()
    flash(
        "Your new insurance document is in: an admin verifies it again."
        if replacing
        else "Your insurance document is in: an admin verifies it next.",
        "success",
    )
    return redirect(url_for("driver.dashboard"), 303)


@bp.route("/positions")
def position_history():
    driver = current_driver()
    return render_template(
        "deliveries/driver_positions.html",
        driver=driver,
        rows=positions.recent_positions(driver.id, limit=200),
        days=current_app.config["POSITION_HISTORY_DAYS"],
    )
