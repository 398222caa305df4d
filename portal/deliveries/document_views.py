"""``/driver-documents/<id>``: a driver's document, for that driver and admins only.

An anonymous visitor is sent to sign in (as on every page that needs an account); every other
signed-in user (vendors, customers, other drivers) gets the same 404 "There is no such document",
so the address tells nothing about which documents exist. The file is sent as
stored (a checked PDF, or a re-encoded WebP photo), ``Cache-Control: private, no-store``,
``nosniff``; a photo also with a ``sandbox`` CSP (a PDF keeps the portal's own policy, as
Chromium shows no PDF viewer in a sandboxed page).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from ..extensions import db, login_manager
from . import documents
from .models_drivers import DriverDocument

bp = Blueprint("driver_documents", __name__, url_prefix="/driver-documents")


@bp.route("/<uuid:document_id>")
def file(document_id):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    document = db.session.get(DriverDocument, document_id)
    if document is None or not documents.may_read(current_user, document):
        abort(404, description="There is no such document.")
    path = documents.document_file(document)
    if not path.is_file():
        abort(404, description="The document's file is missing: ask the driver to upload it again.")
    response = Response(path.read_bytes(), mimetype=document.content_type)
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="{document.kind}-document{path.suffix}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not document.is_pdf:  # (a sandboxed page gets no PDF viewer in Chromium)
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
