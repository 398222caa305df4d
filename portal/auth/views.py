from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from ..cart import current as carts
from ..extensions import db, limiter, login_manager
from ..mail import Outgoing, stored_message
from ..referrals import cookie as referral_cookie
from ..referrals import services as referrals
from ..security import dashboard_url_for, redirect_to_dashboard, token_page
from ..vendors.access import load_signed_in_user
from . import services, sessions, signups, tokens
from .forms import (
    ChangePasswordForm,
    CustomerSignupForm,
    DriverSignupForm,
    EmailForm,
    EmptyForm,
    LoginForm,
    NewPasswordForm,
    VendorSignupForm,
)
from .models import User
from .next_url import safe_next

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # The cookie holds a session row's id (User.get_id); an ended session signs nobody in.
    # The vendor's shop and role come with it, for the view and the nav (vendors.access).
    return sessions.user_for_session(session_id, load=load_signed_in_user)


def sign_in(user: User) -> None:
    """Start a server-side session for ``user`` on this browser, commit, and sign in. A customer
    who came through shops' referral links on this browser is tied to those visits, and the cart
    they filled as a guest becomes theirs."""
    sessions.start_session(user)
    referrals.tie_user(referral_cookie.visitor_id(request.cookies), user)
    cart_notes = carts.merge_at_sign_in(user)
    db.session.commit()
    login_user(user)
    for note in cart_notes:
        flash(note, "warning")


def _email_key(prefix: str) -> str:
    # Hashed: an attacker's megabyte-long "email" must not become a megabyte-long Redis key.
    email = services.normalize_email(request.form.get("email", ""))
    return f"{prefix}:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def _account_and_address_key() -> str:
    return f"{_email_key('login')}|{get_remote_address()}"


def _failed_attempt(response) -> bool:
    # Only failed sign-ins count towards the limit; a successful one redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_attempt,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"],
    key_func=_account_and_address_key,
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
            sign_in(user)
            return redirect(safe_next(request.args.get("next")) or dashboard_url_for(user))
        form.password.errors.append("That email and password do not match an active account.")
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        sessions.end_session(current_user.current_session_id)
        db.session.commit()
        logout_user()
        flash("You are signed out.", "info")
        if request.form.get("then") == "open-shop":  # a vendor removed from their shop
            return redirect(url_for("auth.signup", role="vendor"))
    return redirect(url_for("auth.login"))


# --- sign-up: every address gets the same page and a mail ---------------------------------------

SIGNUP_FORMS = {
    "customer": CustomerSignupForm,
    "vendor": VendorSignupForm,
    "driver": DriverSignupForm,
}
WELCOME = {
    "customer": "Welcome! Your account is ready.",
    "vendor": "Your shop is open. Add products to start selling.",
    "driver": (
        "Thanks for applying. Upload your insurance document next: an admin verifies it and "
        "your background check."
    ),
}
# Sign-ups and reset requests send mail: both count towards one limit per address and per email.
mail_limit_per_address = limiter.shared_limit(
    lambda: current_app.config["SIGNUP_LIMIT_PER_ADDRESS"], scope="account-mail", methods=["POST"]
)
mail_limit_per_email = limiter.shared_limit(
    lambda: current_app.config["SIGNUP_LIMIT_PER_EMAIL"],
    scope="account-mail-email",
    key_func=lambda: _email_key("mail"),
    methods=["POST"],
)


def _check_email_page(email: str, outgoing: Outgoing | None):
    # In development the mail is written to a folder: link to it so signing up stays quick.
    dev_link = None
    if _mail_readable_here() and outgoing is not None:
        dev_link = url_for("auth.dev_mail", message_id=outgoing.message_id)
    return render_template("auth/check_email.html", email=email, dev_link=dev_link)


def _mail_readable_here() -> bool:
    config = current_app.config
    return config["ENV_NAME"] == "development" and config["MAIL_BACKEND"] == "file"


@bp.route("/signup")
def signup_choice():
    return render_template("auth/signup_choice.html")


@bp.route("/signup/<any(customer, vendor, driver):role>", methods=["GET", "POST"])
@mail_limit_per_address
@mail_limit_per_email
def signup(role: str):
    if current_user.is_authenticated:
        return redirect_to_dashboard()
    form = SIGNUP_FORMS[role]()
    if form.validate_on_submit():
        details = {
            name: field.data
            for name, field in form._fields.items()
            if name not in {"email", "password", "confirm", "submit", "csrf_token"}
        }
        outgoing = signups.request_signup(role, form.email.data, form.password.data, details)
        db.session.commit()
        return _check_email_page(services.normalize_email(form.email.data), outgoing)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form, role=role), status


@bp.route("/signup/finish/<token>", methods=["GET", "POST"])
def finish_signup(token: str):
    try:
        pending = signups.signup_for_token(token)
    except signups.SignupUnusable as error:
        return token_page("auth/finish_signup.html", error.status, problem=error.message)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = signups.finish_signup(token)
        except signups.SignupUnusable as error:
            db.session.rollback()
            return token_page("auth/finish_signup.html", error.status, problem=error.message)
        if current_user.is_authenticated:
            logout_user()
        sign_in(user)
        flash(WELCOME[user.role], "success")
        return redirect(dashboard_url_for(user))
    return token_page("auth/finish_signup.html", pending=pending, form=form)


# --- password reset and claim --------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@mail_limit_per_address
@mail_limit_per_email
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        outgoing = signups.request_password_reset(form.email.data)
        db.session.commit()
        return _check_email_page(services.normalize_email(form.email.data), outgoing)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


def _new_password_page(token: str, purpose: str):
    try:
        user = tokens.user_for_reset(token)
    except tokens.LinkUnusable as error:
        return token_page("auth/new_password.html", 410, problem=error.message, purpose=purpose)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            signups.reset_password(token, form.password.data)
        except services.PasswordRefused as error:
            form.password.errors = [str(error)]
        else:
            sessions.end_all_sessions(user)  # whoever knew the old password is signed out
            if current_user.is_authenticated:
                logout_user()
            sign_in(user)
            flash("Your password is set. You are signed in.", "success")
            return redirect(dashboard_url_for(user))
    status = 422 if request.method == "POST" else 200
    return token_page("auth/new_password.html", status, form=form, user=user, purpose=purpose)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _new_password_page(token, "reset")


@bp.route("/claim/<token>", methods=["GET", "POST"])
def claim_account(token: str):
    return _new_password_page(token, "claim")


# --- email verification ----------------------------------------------------------------------


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    try:
        user = tokens.user_for_verification(token)
    except tokens.LinkUnusable as error:
        return token_page("auth/verify_email.html", 410, problem=error.message)
    form = EmptyForm()
    if form.validate_on_submit():
        signups.verify_email(token)
        db.session.commit()
        return token_page("auth/verify_email.html", user=user, verified=True)
    return token_page("auth/verify_email.html", user=user, form=form)


# --- the account's security page, for every role ----------------------------------------------


def _security_page(password_form=None, status: int = 200):
    return render_template(
        "auth/security.html",
        password_form=password_form or ChangePasswordForm(formdata=None),
        button=EmptyForm(formdata=None),
        session_count=sessions.count_sessions(current_user),
        second_factor=_second_factor_status() if current_user.role == "admin" else None,
    ), status


def _second_factor_status() -> dict:
    from . import second_factor, totp

    enrolled = totp.is_enrolled(current_user)
    return {
        "enrolled": enrolled,
        "codes_left": totp.recovery_codes_left(current_user) if enrolled else 0,
        "verified_at": second_factor.verified_at(),
    }


@bp.get("/security/")
@login_required
def security():
    return _security_page()


@bp.post("/security/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _security_page(form, 422)
    try:
        services.change_password(current_user, form.current.data, form.password.data)
    except services.PasswordRefused as error:
        form.password.errors = [str(error)]
        return _security_page(form, 422)
    user = current_user._get_current_object()
    ended = sessions.end_all_sessions(user)
    sign_in(user)  # this browser carries on with a new session
    flash(f"Your password is changed. {ended - 1} other session(s) were signed out.", "success")
    return redirect(url_for("auth.security"))


@bp.post("/security/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    if EmptyForm().validate_on_submit():
        sessions.end_all_sessions(current_user)
        db.session.commit()
        logout_user()
        flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/security/verify")
@login_required
def send_verification():
    if EmptyForm().validate_on_submit() and current_user.email_verified_at is None:
        signups.send_verification(current_user)
        db.session.commit()
        flash(f"We sent a verification link to {current_user.email}.", "info")
    return redirect(url_for("auth.security"))


# --- development: read the mail the file backend wrote --------------------------------------


@bp.get("/dev/mail/<message_id>")
def dev_mail(message_id: str):
    if not _mail_readable_here():
        abort(404)
    message = stored_message(message_id)
    response = make_response(render_template("auth/dev_mail.html", message=message))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(429)
def too_many_attempts(error):
    """Rate-limited: show the form again with a clear reason, not a bare error page."""
    if request.endpoint == "auth.login":
        message = "Too many failed sign-in attempts. Please wait a few minutes before trying again."
        return render_template(
            "auth/login.html", form=LoginForm(formdata=None), limit_message=message
        ), 429
    message = "Too many requests from here or for this address. Please try again in an hour."
    return render_template("errors/error.html", message=message, status=429), 429
