"""Admins' second factor pages: set up the authenticator, enter a code, new recovery codes."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db, limiter
from ..security import restrict_blueprint, token_page
from . import second_factor, totp
from .forms import EmptyForm, SecondFactorCodeForm
from .next_url import safe_next

bp = Blueprint("second_factor", __name__, url_prefix="/admin/second-factor")
restrict_blueprint(bp, "admin")


def _account_key() -> str:
    # Per admin account: whoever types codes here knows the password already; the limit stops
    # them from trying the million codes. (An anonymous request is sent to sign in, not counted.)
    return f"second-factor:{getattr(current_user, 'id', None)}"


# Enrolling and verifying share the limit; only refused codes count (success redirects, and the
# recovery codes page after an enrollment is a 200).
code_attempts = limiter.shared_limit(
    lambda: current_app.config["SECOND_FACTOR_LIMIT"],
    scope="second-factor",
    key_func=_account_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 422,
)


def _next() -> str | None:
    return safe_next(request.args.get("next"))


def _done_url() -> str:
    return _next() or url_for("auth.security")


def _recovery_codes_page(codes: list[str], heading: str, *, replaced: bool):
    # Shown once: never cached, never sent on as a referrer.
    return token_page(
        "auth/second_factor/recovery_codes.html",
        codes=codes,
        heading=heading,
        replaced=replaced,
        done=_done_url(),
    )


def _prove(form: SecondFactorCodeForm, check):
    """``check(user, code)`` on a sent form; on success this session is verified (committed)
    and its result returned, else None with the refusal beside the field."""
    if not form.validate_on_submit():
        return None
    try:
        result = check(current_user, form.code.data)
    except totp.CodeRefused as refusal:
        db.session.rollback()
        form.code.errors = [str(refusal)]
        return None
    second_factor.mark_verified()
    db.session.commit()
    return result


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.route("/set-up", methods=["GET", "POST"])
@code_attempts
def enroll():
    """Set up the authenticator; an admin whose factor is on replaces it (a new phone) only
    after a fresh verification, and the old one works until the new one is confirmed."""
    replacing = totp.is_enrolled(current_user)
    fresh = current_app.config[second_factor.FRESH_SETTING]
    if replacing and not second_factor.verified_within(fresh):
        return second_factor.send_to_gate(request.full_path.rstrip("?"))
    form = SecondFactorCodeForm()
    codes = _prove(form, totp.confirm_enrollment)
    if codes is not None:
        return _recovery_codes_page(codes, "Your authenticator is set up", replaced=replacing)
    enrollment = totp.start_enrollment(current_user, replace=replacing)
    db.session.commit()  # the pending secret stays the same on a reload
    return token_page(
        "auth/second_factor/enroll.html",
        _status(),
        form=form,
        enrollment=enrollment,
        replacing=replacing,
    )


@bp.route("/verify", methods=["GET", "POST"])
@code_attempts
def verify():
    if not totp.is_enrolled(current_user):
        return redirect(url_for("second_factor.enroll", next=_next()))
    form = SecondFactorCodeForm()
    kind = _prove(form, totp.verify)
    if kind is None:
        return render_template("auth/second_factor/verify.html", form=form), _status()
    if kind == "recovery":
        left = totp.recovery_codes_left(current_user)
        flash(
            f"Recovery code used: {left} left. Make new ones on your security page "
            "if you are running out.",
            "warning",
        )
    return redirect(_done_url(), 303)


@bp.post("/recovery-codes")
@second_factor.requires_second_factor(
    second_factor.FRESH_SETTING, back_to=lambda: url_for("auth.security")
)
def regenerate_recovery_codes():
    if not EmptyForm().validate_on_submit():
        flash("The form expired; reload the page.", "error")
        return redirect(url_for("auth.security"), 303)
    codes = totp.regenerate_recovery_codes(current_user)
    db.session.commit()
    return _recovery_codes_page(codes, "New recovery codes", replaced=True)


@bp.errorhandler(429)
def too_many_codes(error):
    message = "Too many wrong codes. Please wait a few minutes before trying again."
    if request.endpoint != "second_factor.verify":
        return render_template("errors/error.html", message=message, status=429), 429
    form = SecondFactorCodeForm(formdata=None)
    return render_template("auth/second_factor/verify.html", form=form, limit_message=message), 429
