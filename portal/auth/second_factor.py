"""The gate in front of admins' money actions: a second factor proved recently in this session.

``@money_action`` on an admin view lets it run only when this signed-in session proved the second
factor within ADMIN_SECOND_FACTOR_MINUTES. Otherwise nothing is done: the admin is sent to set
up the authenticator (not enrolled) or to enter a code (enrolled), and from there back to the page
that holds the action's form, to do it again. An HTMX request gets ``HX-Redirect``, so the whole
page goes there instead of the answer being swapped into a fragment.

The proof is kept per server-side session (``second_factor_checks``, keyed by the session row):
signing out, signing out everywhere and a password change end the session and the proof with it;
a new sign-in starts without one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user

from ..clock import utcnow
from ..extensions import READ_METHODS, db, login_manager
from . import totp
from .next_url import safe_next
from .second_factor_models import SecondFactorCheck

MINUTES_SETTING = "ADMIN_SECOND_FACTOR_MINUTES"
FRESH_SETTING = "ADMIN_SECOND_FACTOR_FRESH_MINUTES"


def mark_verified(*, now: datetime | None = None) -> None:
    """Record that this session proved the second factor just now (the caller commits)."""
    session_id = current_user.current_session_id
    check = db.session.get(SecondFactorCheck, session_id)
    if check is None:
        check = SecondFactorCheck(session_id=session_id)
        db.session.add(check)
    check.verified_at = now or utcnow()


def verified_at() -> datetime | None:
    """When this session last proved the second factor, or None."""
    if not current_user.is_authenticated or current_user.current_session_id is None:
        return None
    check = db.session.get(SecondFactorCheck, current_user.current_session_id)
    return check.verified_at if check is not None else None


def verified_within(minutes: int, *, now: datetime | None = None) -> bool:
    at = verified_at()
    return at is not None and at >= (now or utcnow()) - timedelta(minutes=minutes)


def gate_url(next_path: str | None) -> str:
    """Where an admin without a recent proof goes: set-up, or the code page; then ``next_path``."""
    endpoint = "second_factor.verify" if totp.is_enrolled(current_user) else "second_factor.enroll"
    return url_for(endpoint, next=safe_next(next_path))


def _form_page(back_to: Callable[..., str] | None, view_args: dict) -> str:
    """The page to come back to: the one that holds the form (nothing was done)."""
    if back_to is not None:
        return back_to(**view_args)
    return request.path  # a form that posts to its own page's URL


def send_to_gate(next_path: str):
    url = gate_url(next_path)
    if request.headers.get("HX-Request"):
        response = make_response("Confirm with your second factor first.", 200)
        response.headers["HX-Redirect"] = url
        response.vary.add("HX-Request")
        return response
    return redirect(url, 303)


def requires_second_factor(
    setting: str = MINUTES_SETTING, *, back_to: Callable[..., str] | None = None
):
    """Run the view's POST (or other unsafe method) only for an admin whose session proved the
    second factor within the minutes of ``setting``; a GET opens as usual. ``back_to(**view_args)``
    names the page holding the form (default: the request's own path)."""

    def decorate(view):
        @functools.wraps(view)
        def gated(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != "admin":
                abort(403, description="Your account cannot open this page.")
            # The page that shows the form opens as usual; sending it is the action.
            if request.method in READ_METHODS or verified_within(current_app.config[setting]):
                return view(*args, **kwargs)
            then = "enter a code" if totp.is_enrolled(current_user) else "set up your authenticator"
            flash(
                f"That action needs your second factor first. Nothing was done yet: {then}, "
                "then do it again.",
                "info",
            )
            return send_to_gate(_form_page(back_to, kwargs))

        gated.second_factor_setting = setting  # tests find every gated view by it
        return gated

    return decorate


def money_action(view=None, *, back_to: Callable[..., str] | None = None):
    """``@money_action`` or ``@money_action(back_to=...)``: the gate for views that move money."""
    decorate = requires_second_factor(MINUTES_SETTING, back_to=back_to)
    return decorate(view) if view is not None else decorate
