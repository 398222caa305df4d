"""Who may see what, and the headers every response carries."""

from __future__ import annotations

from flask import Response, abort, current_app, make_response, redirect, render_template, url_for
from flask_login import current_user

from .extensions import login_manager

DASHBOARD_ENDPOINTS = {
    "admin": "admin.dashboard",
    "vendor": "vendor.dashboard",
    "driver": "driver.dashboard",
    "customer": "customer.dashboard",
}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Leaflet draws map tiles from the tile server; data: covers small inline icons.
        "img-src 'self' data: blob: https://tile.openstreetmap.org",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def content_security_policy(*, form_action: tuple[str, ...] = ()) -> str:
    """The policy with more origins a form may be sent on to (a form whose answer redirects
    there: browsers hold a form's redirects to ``form-action`` too)."""
    if not form_action:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(form_action)
    )


def dashboard_url_for(user) -> str:
    return url_for(DASHBOARD_ENDPOINTS[user.role])


def check_role(*roles: str) -> Response | None:
    """Redirect anonymous users to sign-in; refuse signed-in users of other roles with 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in roles:
        abort(403, description="Your account cannot open this page.")
    return None


def restrict_blueprint(blueprint, *roles: str) -> None:
    """Guard every route of a role's blueprint, so no view can forget its check."""
    blueprint.before_request(lambda: check_role(*roles))


def redirect_to_dashboard() -> Response:
    return redirect(dashboard_url_for(current_user))


def token_page(template: str, status: int = 200, **context) -> Response:
    """A page whose address carries a secret token (an invitation, a mailed link)."""
    response = make_response(render_template(template, **context), status)
    # Keep the token out of caches and other sites' referrer logs.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def apply_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
