"""Error pages, and error fragments for HTMX requests (never a blank swap)."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import htmx
from .extensions import db

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is nothing at this address.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a few minutes and try again.",
    500: "Something went wrong on our side. Nothing you saved was lost; please try again.",
}


def _render_error(status: int, message: str):
    if htmx.is_partial_request():
        response = current_app.make_response(
            (render_template("errors/_alert.html", status=status, message=message), status)
        )
        return htmx.retarget_to_alerts(response)
    return render_template("errors/error.html", status=status, message=message), status


def handle_http_error(error: HTTPException):
    status = error.code or 500
    message = MESSAGES.get(status, error.name)
    # Our own aborts carry a specific description; Werkzeug's defaults are too technical to show.
    if error.description and error.description != type(error).description:
        message = error.description
    return _render_error(status, message)


def handle_csrf_error(error: CSRFError):
    return _render_error(
        400, "Your form expired or was sent from elsewhere. Reload the page and try again."
    )


def handle_unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return _render_error(500, MESSAGES[500])


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    if not app.testing:
        # In tests an unexpected exception should fail loudly instead of becoming a page.
        app.register_error_handler(Exception, handle_unexpected_error)
