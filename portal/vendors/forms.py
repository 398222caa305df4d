"""Forms of the shop's pages: profile, staff invitations, and the admin's choice of shop kind."""

from __future__ import annotations

from datetime import time
from types import SimpleNamespace

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..auth.forms import PHONE, PasswordFields
from ..forms import choices
from .profile import (
    ADDRESS_FIELDS,
    WEEKDAYS,
    ProfileChanges,
    ProfileError,
    check_interval,
    position_of,
)


class DayForm(Form):
    """One weekday's hours: an opening and a closing time, or closed."""

    closed = BooleanField("Closed")
    opens = TimeField("Opens", validators=[Optional()], format="%H:%M")
    closes = TimeField("Closes", validators=[Optional()], format="%H:%M")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.closed.data:
            return True
        if self.opens.data is None or self.closes.data is None:
            self.closes.errors.append("Give opening and closing times, or tick Closed.")
            return False
        try:
            check_interval(self.opens.data.strftime("%H:%M"), self.closes.data.strftime("%H:%M"))
        except ProfileError as error:
            self.closes.errors.append(str(error))
            return False
        return True

    def intervals(self) -> list[list[str]]:
        if self.closed.data:
            return []
        return [[self.opens.data.strftime("%H:%M"), self.closes.data.strftime("%H:%M")]]


class ProfileForm(FlaskForm):
    name = StringField("Shop name", validators=[DataRequired(), Length(min=2, max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    logo = FileField("Logo (JPEG, PNG or WebP)")
    remove_logo = BooleanField("Remove the current logo")

    line1 = StringField("Street and number", validators=[Optional(), Length(max=255)])
    line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=255)])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    state = StringField("State or region", validators=[Optional(), Length(max=120)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=20)])
    country = StringField("Country", validators=[Optional(), Length(max=120)])
    # Typed as text so any decimal notation is accepted and a bad value gets our message.
    latitude = StringField("Latitude", validators=[Optional(), Length(max=32)])
    longitude = StringField("Longitude", validators=[Optional(), Length(max=32)])

    mon = FormField(DayForm, "Monday")
    tue = FormField(DayForm, "Tuesday")
    wed = FormField(DayForm, "Wednesday")
    thu = FormField(DayForm, "Thursday")
    fri = FormField(DayForm, "Friday")
    sat = FormField(DayForm, "Saturday")
    sun = FormField(DayForm, "Sunday")

    contact_email = EmailField("Contact email", validators=[Optional(), Email(), Length(max=255)])
    contact_phone = StringField("Contact phone", validators=[Optional(), PHONE])
    submit = SubmitField("Save profile")

    def days(self):
        return [(day, self[day]) for day in WEEKDAYS]

    def coordinate(self, name: str) -> float | None:
        """The typed coordinate as a float; None when blank; ProfileError when unreadable."""
        text = (self[name].data or "").strip().replace(",", ".")
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise ProfileError(
                "Enter a number in decimal degrees, e.g. 52.5200.", field=name
            ) from None

    def changes(self) -> ProfileChanges:
        """What was submitted, parsed (ProfileError for a coordinate that is no number)."""
        upload = self.logo.data
        return ProfileChanges(
            name=self.name.data,
            description=self.description.data,
            pickup_address=self.address(),
            latitude=self.coordinate("latitude"),
            longitude=self.coordinate("longitude"),
            opening_hours=self.opening_hours(),
            contact_email=self.contact_email.data,
            contact_phone=self.contact_phone.data,
            logo=upload.stream if upload and getattr(upload, "filename", "") else None,
            remove_logo=bool(self.remove_logo.data),
        )

    def show_error(self, error: ProfileError) -> None:
        """Put a refused value's message under its field (a weekday's under its closing time)."""
        field = self._fields.get(error.field or "name", self.name)
        if isinstance(field, FormField):
            field = field.form.closes
        field.errors = [*field.errors, str(error)]

    def address(self) -> dict[str, str]:
        return {key: self[key].data or "" for key in ADDRESS_FIELDS}

    def opening_hours(self) -> dict[str, list[list[str]]]:
        return {day: subform.intervals() for day, subform in self.days()}

    @classmethod
    def for_vendor(cls, vendor) -> ProfileForm:
        """The form filled from the shop as it is saved."""
        position = position_of(vendor)
        address = vendor.pickup_address or {}
        hours = vendor.opening_hours or {}
        data = {
            "name": vendor.name,
            "description": vendor.description,
            "contact_email": vendor.contact_email,
            "contact_phone": vendor.contact_phone,
            "latitude": f"{position.latitude:.6f}" if position else "",
            "longitude": f"{position.longitude:.6f}" if position else "",
            **{key: address.get(key, "") for key in ADDRESS_FIELDS},
        }
        for day in WEEKDAYS:
            intervals = hours.get(day) or []
            if intervals:
                opens, closes = intervals[0]
                data[day] = SimpleNamespace(closed=False, opens=_time(opens), closes=_time(closes))
            else:
                # A shop that never set its hours shows every day closed until it does.
                data[day] = SimpleNamespace(closed=True, opens=None, closes=None)
        return cls(formdata=None, data=data)


def _time(text: str) -> time:
    return time.fromisoformat(text)


class InvitationForm(FlaskForm):
    email = EmailField("Email of the person to invite", validators=[DataRequired(), Email()])
    submit = SubmitField("Create invitation link")


class AcceptInvitationForm(PasswordFields):
    """A new account for an invited person: the email is the invitation's."""

    submit = SubmitField("Create my account and join")


class VendorTypeForm(FlaskForm):
    vendor_type = SelectField("Kind of shop", validators=[DataRequired()])
    submit = SubmitField("Change kind")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vendor_type.choices = choices(
            (t, t.title()) for t in current_app.config["VENDOR_TYPES"]
        )
