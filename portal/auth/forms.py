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

PHONE = Regexp(r"^\+?[0-9 ()-]{7,20}$", message="Enter a phone number of 7 to 20 digits.")


def _min_password_length(form, field) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(f"Use at least {minimum} characters.")


class LoginForm(FlaskForm):
    # No format check here: an unknown address simply fails to sign in, with the same message.
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Sign in")


class _AccountFields(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), _min_password_length])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


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


class EmptyForm(FlaskForm):
    """For buttons that POST: carries the CSRF token and nothing else."""

    submit = SubmitField("Submit")
