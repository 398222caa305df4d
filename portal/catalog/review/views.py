"""The admin review queue (``/admin/catalog/review``, admins only): one proposal at a time,
decided with buttons or the keyboard, swapped in place by HTMX.

Every decision form carries the filter, so the answer is the panel of the next proposal in it
(and, hidden, the one after: the page's script shows that at once while the request runs).
Without JavaScript the forms post and redirect back to the page.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ... import htmx
from ...extensions import db
from ...security import restrict_blueprint
from ...shell import toast
from . import decisions, merge, panel, queue
from .decisions import AlreadyDecided, ReviewError

bp = Blueprint("catalog_review", __name__, url_prefix="/admin/catalog/review")
restrict_blueprint(bp, "admin")


def _filters() -> queue.Filters:
    return queue.Filters.from_args(request.values)


def _panel_context(filters: queue.Filters, current, message: str | None = None) -> dict:
    after = queue.step(filters, current) if current is not None else None
    before = queue.step(filters, current, forward=False) if current is not None else None
    return {
        "filters": filters,
        "params": filters.params(),
        "item": panel.item(current),
        "next_item": panel.item(after),
        "previous": before,
        "counts": queue.counts(filters),
        "last": decisions.last_decision(current_user),
        "message": message,
        "bands": queue.BANDS,
    }


def _page(filters: queue.Filters, current, status: int = 200, message: str | None = None):
    context = _panel_context(filters, current, message)
    return htmx.render(
        "catalog/review/index.html",
        "catalog/review/_queue.html",
        status=status,
        choices=queue.filter_choices(),
        **context,
    )


def _panel(filters, current, status: int = 200, message: str | None = None, toast_text=None):
    """The panel's fragment (and the counts, out of band) for an HTMX answer."""
    context = _panel_context(filters, current, message)
    response = make_response(
        render_template("catalog/review/_panel_answer.html", **context), status
    )
    response.vary.add("HX-Request")
    if toast_text:
        toast(response, toast_text)
    return response


def _proposal_id(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@bp.get("/")
def index():
    filters = _filters()
    wanted = _proposal_id(request.args.get("at")) if request.args.get("at") else None
    current = panel.proposal_or_none(wanted) if wanted else None
    if current is None or current.status != "pending":
        current = queue.first(filters)
    return _page(filters, current)


@bp.get("/proposals/<proposal_id>")
def item(proposal_id: str):
    """One proposal's panel (j/k and the prefetch); a settled one gives way to the next."""
    filters = _filters()
    key = _proposal_id(proposal_id)
    current = panel.proposal_or_none(key) if key else None
    message, status = None, 200
    if current is None:
        message, status = "That proposal no longer exists; here is the first one waiting.", 404
        current = queue.first(filters)
    elif current.status != "pending":
        message = "That proposal was decided meanwhile; here is the next one waiting."
        current = queue.after_decision(filters, current) or queue.first(filters)
    if not htmx.is_partial_request():
        if message:
            flash(message, "info")
        return redirect(url_for(".index", at=current.id if current else None, **filters.params()))
    return _panel(filters, current, status=status, message=message)


def _decided(filters, proposal_id, action, words: str):
    """Run a decision; answer with the next proposal, or with why nothing was done."""
    key = _proposal_id(proposal_id)
    current = panel.proposal_or_none(key) if key else None
    try:
        action()
    except ReviewError as error:
        db.session.rollback()
        status = 409 if isinstance(error, AlreadyDecided) else 422
        if current is not None and current.status != "pending":
            shown = queue.after_decision(filters, current) or queue.first(filters)
        else:
            shown = current or queue.first(filters)
        return _answer(filters, shown, status=status, message=str(error))
    db.session.commit()
    shown = queue.after_decision(filters, current) if current is not None else None
    return _answer(filters, shown or queue.first(filters), toast_text=f"{words} Press u to undo.")


def _answer(filters, shown, status: int = 200, message=None, toast_text=None):
    if htmx.is_partial_request():
        return _panel(filters, shown, status=status, message=message, toast_text=toast_text)
    flash(message or toast_text, "error" if message else "success")
    return redirect(url_for(".index", at=shown.id if shown else None, **filters.params()), 303)


@bp.post("/proposals/<proposal_id>/approve")
def approve(proposal_id: str):
    return _decided(
        _filters(),
        proposal_id,
        lambda: decisions.approve(proposal_id, current_user),
        "Approved.",
    )


@bp.post("/proposals/<proposal_id>/reject")
def reject(proposal_id: str):
    return _decided(
        _filters(),
        proposal_id,
        lambda: decisions.reject(proposal_id, current_user),
        "Rejected: a new master was made from the product.",
    )


@bp.post("/proposals/<proposal_id>/remap")
def remap(proposal_id: str):
    master_id = request.form.get("master_id")
    return _decided(
        _filters(),
        proposal_id,
        lambda: decisions.remap(proposal_id, master_id, current_user),
        "Mapped to the master you picked.",
    )


@bp.post("/proposals/<proposal_id>/merge")
def merge_masters(proposal_id: str):
    """Merge the proposal's master and another one; ``keep`` says which survives."""
    filters = _filters()
    key = _proposal_id(proposal_id)
    current = panel.proposal_or_none(key) if key else None
    other = request.form.get("other_id")
    if current is None:
        return _answer(filters, queue.first(filters), 404, "That proposal no longer exists.")
    proposed = current.master_product_id
    keep_other = request.form.get("keep") == "other"
    merged, survivor = (proposed, other) if keep_other else (other, proposed)
    try:
        merge.merge(merged, survivor, current_user, proposal_id=current.id)
    except ReviewError as error:
        db.session.rollback()
        return _answer(filters, current, 422, str(error))
    db.session.commit()
    db.session.refresh(current)
    return _answer(filters, current, toast_text="Masters merged; their shops were told.")


@bp.post("/undo")
def undo():
    filters = _filters()
    try:
        undone = decisions.undo_last(current_user)
    except ReviewError as error:
        db.session.rollback()
        at = _proposal_id(request.form.get("at"))
        shown = panel.proposal_or_none(at) if at else None
        return _answer(filters, shown or queue.first(filters), 409, str(error))
    db.session.commit()
    proposal = panel.proposal_or_none(undone.proposal_id) if undone.proposal_id else None
    shown = proposal if proposal is not None and proposal.status == "pending" else None
    return _answer(filters, shown or queue.first(filters), toast_text="Undone.")


@bp.get("/masters")
def masters():
    """Masters whose name holds what the admin typed: remap or merge choices (a fragment)."""
    exclude = _proposal_id(request.args.get("exclude"))
    mode = "merge" if request.args.get("mode") == "merge" else "remap"
    found = queue.search_masters(request.args.get("q", ""), exclude=exclude)
    return render_template(
        "catalog/review/_masters.html",
        masters=found,
        mode=mode,
        typed=request.args.get("q", "").strip(),
        min_length=queue.MIN_SEARCH_LENGTH,
    )


@bp.get("/bulk")
def bulk_preview():
    """How many proposals a bulk approve would approve (a fragment with the confirm form)."""
    filters = _filters()
    minimum = queue.parse_confidence(request.args.get("min_confidence"))
    count = None if minimum is None else decisions.bulk_preview(filters, minimum)
    return render_template(
        "catalog/review/_bulk_preview.html",
        filters=filters,
        params=filters.params(),
        minimum=minimum,
        count=count,
        limit=current_app.config["CATALOG_REVIEW_BULK_MAX"],
        bands=queue.BANDS,
    )


@bp.post("/bulk")
def bulk_approve():
    filters = _filters()
    minimum = queue.parse_confidence(request.form.get("min_confidence"))
    expected = request.form.get("expected", type=int)
    if minimum is None or expected is None:
        return _answer(
            filters, queue.first(filters), 422, "Give a confidence between 0 and 1 and preview."
        )
    try:
        approved = decisions.bulk_approve(
            filters,
            minimum,
            expected,
            current_user,
            limit=current_app.config["CATALOG_REVIEW_BULK_MAX"],
        )
    except ReviewError as error:
        db.session.rollback()
        return _answer(filters, queue.first(filters), 409, str(error))
    db.session.commit()
    words = f"{approved} proposal{'' if approved == 1 else 's'} approved."
    if expected > approved:
        words += f" {expected - approved} more at {minimum} or above wait: preview again."
    return _answer(filters, queue.first(filters), toast_text=words)
