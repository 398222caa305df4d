from flask import current_app
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..forms import choices
from . import passwords

PHONE = Regexp(r"^\+?[0-9 ()-]{7,20}$", message="Enter a phone number of 7 to 20 digits.")


def password_policy(form, field) -> None:
    """The password policy (portal/auth/passwords.py), with the form's email when it has one."""
    email = form.email.data if "email" in form else None
    refusal = passwords.problem(field.data or "", email)
    if refusal:
        raise ValidationError(refusal)


class LoginForm(FlaskForm):
    # No format check here: an unknown address simply fails to sign in, with the same message.
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


class PasswordFields(FlaskForm):
    """A new password, typed twice, checked against the policy (also the staff invitation's)."""

    password = PasswordField("Password", validators=[DataRequired(), password_policy])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class _AccountFields(PasswordFields):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=255)])


class CustomerSignupForm(_AccountFields):
    full_name = StringField("Your name", validators=[DataRequired(), Length(max=255)])
    phone = StringField("Phone (optional)", validators=[Optional(), PHONE])
    submit = SubmitField("Create account")


class VendorSignupForm(_AccountFields):
    shop_name = StringField("Shop name", validators=[DataRequired(), Length(min=2, max=255)])
    vendor_type = SelectField("Kind of shop", validators=[DataRequired()])
    contact_phone = StringField("Shop phone", validators=[DataRequired(), PHONE])
    submit = SubmitField("Open my shop")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vendor_type.choices = choices(
            (t, t.title()) for t in current_app.config["VENDOR_TYPES"]
        )


class DriverSignupForm(_AccountFields):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=255)])
    phone = StringField("Phone", validators=[DataRequired(), PHONE])
    vehicle_type = SelectField("Vehicle", validators=[DataRequired()])
    license_number = StringField(
        "Driving licence number", validators=[DataRequired(), Length(max=50)]
    )
    submit = SubmitField("Apply to drive")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vehicle_type.choices = choices(
            (t, t.title()) for t in current_app.config["VEHICLE_TYPES"]
        )


class EmailForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=255)])
    submit = SubmitField("Send me a link")


class NewPasswordForm(PasswordFields):
    """A new password from a reset or claim link (the email is the account's)."""

    submit = SubmitField("Set my password")


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Change password")


class EmptyForm(FlaskForm):
    """For buttons that POST: carries the CSRF token and nothing else."""

    submit = SubmitField("Submit")


class SecondFactorCodeForm(FlaskForm):
    """A 6-digit code of the authenticator, or (verifying) a recovery code."""

    code = StringField(
        "Code",
        validators=[
            DataRequired(message="Enter the code your authenticator app shows."),
            Length(max=40, message="That is longer than any code."),
        ],
    )
    submit = SubmitField("Verify")
