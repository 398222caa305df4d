"""The customer's tracking page: public, opened by the delivery's unguessable token (no sign-in).

The page includes the status fragment that HTMX polls until the delivery ends; the map around it
(static/js/tracking_map.js) reads the positions the fragment carries, so it is drawn once and its
markers move with each poll. Once delivered, the customer rates the delivery here.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Optional

from .. import htmx
from ..extensions import db
from ..forms import choices
from ..inputs import strip_filter
from ..security import token_page
from . import tracking
from .models_tracking import RATING_STARS

bp = Blueprint("tracking", __name__, url_prefix="/track")


@bp.app_context_processor
def _tracking_helpers() -> dict:
    # Functions, so only the pages that show an order's delivery (the shop's order page, the
    # customer's account) send their statement.
    return {"order_delivery": tracking.order_delivery, "tracking_links": tracking.tracking_links}


class RatingForm(FlaskForm):
    stars = RadioField(
        "How was the delivery?",
        choices=choices((n, f"{n} star" + ("" if n == 1 else "s")) for n in RATING_STARS),
        coerce=int,
        validators=[InputRequired(message="Choose from 1 to 5 stars.")],
    )
    comment = TextAreaField(
        "Anything to add? (optional)", filters=[strip_filter], validators=[Optional()]
    )


def _no_store(response):
    # The fragment carries the token's page state: never cached, never a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.vary.add("HX-Request")
    return response


def _unavailable(error: tracking.TrackingUnavailable):
    if htmx.is_partial_request():
        body = render_template("deliveries/_tracking_unavailable.html", error=error)
        return _no_store(make_response(body, error.status))
    return token_page("deliveries/tracking_unavailable.html", error.status, error=error)


def _context(assignment, form=None, problem=None) -> dict:
    return {
        "t": tracking.tracking_for(assignment),
        "token": assignment.tracking_token,
        "form": form or RatingForm(formdata=None),
        "problem": problem,
        "map": {
            "tiles": current_app.config["MAP_TILE_URL"],
            "attribution": current_app.config["MAP_TILE_ATTRIBUTION"],
        },
    }


@bp.get("/<token>")
def page(token: str):
    try:
        assignment = tracking.delivery_for_token(token)
    except tracking.TrackingUnavailable as error:
        return _unavailable(error)
    return token_page("deliveries/tracking.html", **_context(assignment))


@bp.get("/<token>/status")
def status(token: str):
    """The polled fragment: status, timeline, ETA, PIN, the positions; stops polling at the end."""
    try:
        assignment = tracking.delivery_for_token(token)
    except tracking.TrackingUnavailable as error:
        return _unavailable(error)
    body = render_template("deliveries/_tracking_status.html", **_context(assignment))
    return _no_store(make_response(body))


@bp.post("/<token>/rating")
def rate(token: str):
    try:
        assignment = tracking.delivery_for_token(token, lock=True)
    except tracking.TrackingUnavailable as error:
        return _unavailable(error)
    form = RatingForm()
    problem = None
    if not form.validate_on_submit():
        # The stars' own messages ("Not a valid choice") say less than this.
        problem = "Choose from 1 to 5 stars." if form.stars.errors else "Reload the page."
    else:
        try:
            tracking.rate_delivery(assignment, stars=form.stars.data, comment=form.comment.data)
        except tracking.RatingRefused as refused:
            # Refused before anything was written (a lost race only rolled back its savepoint);
            # nothing is committed on this path.
            problem = str(refused)
        else:
            db.session.commit()
    if not htmx.is_partial_request():
        if problem is None:
            return redirect(url_for(".page", token=token), 303)
        return token_page("deliveries/tracking.html", 422, **_context(assignment, form, problem))
    body = render_template(
        "deliveries/_tracking_rating.html", **_context(assignment, form, problem)
    )
    return _no_store(make_response(body, 422 if problem else 200))
