from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import choices
from ..inputs import DateInRange
from .handling import CANCEL_REASONS, STATUS_FILTERS, OrderFilter


class OrderFilterForm(FlaskForm):
    """The list's filters, read from the query string (GET changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=choices([("", "All orders"), *STATUS_FILTERS]),
        validators=[Optional()],
    )
    date_from = DateField("From", validators=[Optional(), DateInRange()])
    date_to = DateField("To", validators=[Optional(), DateInRange()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def to_filter(self) -> OrderFilter:
        """Only the filters that validated are applied; the others are shown with their error."""
        status = self.status.data if self.status.data and not self.status.errors else None
        date_from = self.date_from.data if not self.date_from.errors else None
        date_to = self.date_to.data if not self.date_to.errors else None
        return OrderFilter(status=status, date_from=date_from, date_to=date_to)


class OrderActionForm(FlaskForm):
    """Accept and ready: a button that only carries the CSRF token."""


class CancelOrderForm(FlaskForm):
    reason = SelectField(
        "Reason",
        choices=choices([("", "Choose a reason…"), *CANCEL_REASONS]),
        validators=[DataRequired(message="Choose a reason for the cancellation.")],
    )
    note = TextAreaField(
        "Note for the customer and the marketplace",
        validators=[Optional(), Length(max=200, message="Keep the note under 200 characters.")],
    )

    def validate_note(self, field) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("Say why the order is canceled.")
