from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter, login_manager
from ..security import dashboard_url_for, redirect_to_dashboard
from . import services
from .forms import CustomerSignupForm, DriverSignupForm, EmptyForm, LoginForm, VendorSignupForm
from .models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, user_id)
    except ValueError:  # a stale or tampered session id
        return None


def _failed_attempt(response) -> bool:
    # Only failed sign-ins count towards the limit; a successful one redirects.
    return response.status_code != 302


def _account_key() -> str:
    return "account:" + services.normalize_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths, never "//host" or absolute URLs (open redirects).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_attempt,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed_attempt,
)
def login():
    if current_user.is_authenticated:
        return redirect_to_dashboard()
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or dashboard_url_for(user))
        form.password.errors.append("That email and password do not match an active account.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


SIGNUPS = {
    "customer": (CustomerSignupForm, services.register_customer, "Welcome! Your account is ready."),
    "vendor": (
        VendorSignupForm,
        services.register_vendor,
        "Your shop is open. Add products to start selling.",
    ),
    "driver": (
        DriverSignupForm,
        services.register_driver,
        "Thanks for applying. An admin will verify your insurance and background check.",
    ),
}


@bp.route("/signup")
def signup_choice():
    return render_template("auth/signup_choice.html")


@bp.route("/signup/<any(customer, vendor, driver):role>", methods=["GET", "POST"])
def signup(role: str):
    if current_user.is_authenticated:
        return redirect_to_dashboard()
    form_class, register, welcome = SIGNUPS[role]
    form = form_class()
    if form.validate_on_submit():
        fields = {
            name: field.data
            for name, field in form._fields.items()
            if name not in {"confirm", "submit", "csrf_token"}
        }
        try:
            user = register(**fields)
        except services.EmailTaken:  # raised before anything is written
            form.email.errors.append("An account with this email exists already. Sign in instead.")
        else:
            db.session.commit()
            login_user(user)
            flash(welcome, "success")
            return redirect(dashboard_url_for(user))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form, role=role), status


@bp.errorhandler(429)
def too_many_attempts(error):
    """Rate-limited sign-in: show the form again with a clear reason, not a bare error page."""
    form = LoginForm(formdata=None)
    message = "Too many failed sign-in attempts. Please wait a few minutes before trying again."
    return render_template("auth/login.html", form=form, limit_message=message), 429
