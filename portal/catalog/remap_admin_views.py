"""``/admin/catalog/remap-requests``: the vendors' open remap requests, for admins to resolve (map
the product to a master they find by name) or decline with a note."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import htmx
from ..extensions import db
from ..security import restrict_blueprint
from ..shell import toast
from . import remaps
from .remap_forms import DeclineForm, ResolveForm

bp = Blueprint("catalog_remaps", __name__, url_prefix="/admin/catalog/remap-requests")
restrict_blueprint(bp, "admin")


@bp.context_processor
def _note_limit():
    return {"note_max": remaps.NOTE_MAX}


def _list(refused: dict | None = None, status: int = 200):
    result = remaps.open_requests(request.args.get("page", 1, type=int) or 1)
    return htmx.render(
        "catalog/admin_remaps.html",
        "catalog/_admin_remaps.html",
        status,
        result=result,
        refused=refused,
    )


@bp.get("/")
def index():
    return _list()


@bp.get("/masters")
def masters():
    """The search results of one request's resolve form (HTMX, as the admin types)."""
    return render_template(
        "catalog/_master_choices.html",
        masters=remaps.master_choices(
            _uuid(request.args.get("request")), request.args.get("q", "")
        ),
        request_id=request.args.get("request", ""),
        q=request.args.get("q", ""),
    )


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _decided(request_id: uuid.UUID, message: str):
    db.session.commit()
    if not htmx.is_partial_request():
        flash(message, "success")
        return redirect(url_for(".index"), 303)
    # The row goes; the list's count follows with the event.
    response = make_response("")
    htmx.trigger(response, "remap-request-decided", {"id": str(request_id)})
    return toast(response, message)


def _refused(request_id: uuid.UUID, kind: str, error: remaps.RemapError, form):
    db.session.rollback()
    refused = {
        "id": request_id,
        "kind": kind,
        "error": str(error),
        "note": form.note.data,
        "q": getattr(form, "q", None) and form.q.data,
    }
    refused["masters"] = remaps.master_choices(request_id, refused["q"] or "")
    if htmx.is_partial_request():
        row = remaps.open_request_row(request_id)
        if row is None:  # decided meanwhile by another admin: say so where the row was
            return htmx.retarget_to_alerts(
                make_response(render_template("catalog/_alert.html", message=str(error)), 422)
            )
        return render_template("catalog/_admin_remap_row.html", r=row, refused=refused), 422
    return _list(refused, 422)


@bp.post("/<uuid:request_id>/resolve")
def resolve(request_id):
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            done = remaps.resolve_remap(
                request_id, _uuid(form.master.data), admin=current_user, note=form.note.data
            )
        except remaps.RemapError as error:
            return _refused(request_id, "resolve", error, form)
        return _decided(request_id, f"“{done.product.title}” remapped; the shop sees it.")
    return _refused(request_id, "resolve", remaps.RemapError("The form expired; try again."), form)


@bp.post("/<uuid:request_id>/decline")
def decline(request_id):
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            done = remaps.decline_remap(request_id, admin=current_user, note=form.note.data)
        except remaps.RemapError as error:
            return _refused(request_id, "decline", error, form)
        return _decided(request_id, f"Request for “{done.product.title}” declined.")
    return _refused(request_id, "decline", remaps.RemapError("The form expired; try again."), form)
