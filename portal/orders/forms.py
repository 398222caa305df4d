from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import choices
from ..inputs import DateInRange, strip_filter
from . import numbers
from .handling import (
    CANCEL_REASONS,
    MIN_NAME_SEARCH,
    STATUS_FILTERS,
    OrderFilter,
    cancel_problem,
)


class OrderFilterForm(FlaskForm):
    """The list's filters, read from the query string (GET changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Search",
        filters=[strip_filter],
        validators=[Optional(), Length(max=100, message="Search for at most 100 characters.")],
    )
    status = SelectField(
        "Status",
        choices=choices([("", "All orders"), *STATUS_FILTERS]),
        validators=[Optional()],
    )
    date_from = DateField("From", validators=[Optional(), DateInRange()])
    date_to = DateField("To", validators=[Optional(), DateInRange()])

    def validate_q(self, field) -> None:
        if numbers.parse_number(field.data) is None and len(field.data) < MIN_NAME_SEARCH:
            raise ValidationError(
                f"Type an order number, or at least {MIN_NAME_SEARCH} letters of a name."
            )

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def to_filter(self) -> OrderFilter:
        """Only the filters that validated are applied; the others are shown with their error."""
        status = self.status.data if self.status.data and not self.status.errors else None
        date_from = self.date_from.data if not self.date_from.errors else None
        date_to = self.date_to.data if not self.date_to.errors else None
        search = self.q.data if self.q.data and not self.q.errors else None
        number = numbers.parse_number(search)
        return OrderFilter(
            status=status,
            date_from=date_from,
            date_to=date_to,
            number=number,
            name=search if search and number is None else None,
        )

    def params(self) -> dict:
        """The filters as the URL carries them (the pager's links keep them)."""
        return {
            name: field.raw_data[0]
            for name, field in self._fields.items()
            if field.raw_data and field.raw_data[0]
        }


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

    def validate(self, extra_validators=None) -> bool:
        # The reason-and-note rule is the service's (``handling.cancel_problem``); a rule on the
        # note field itself would never run for an empty note (``Optional`` stops there).
        valid = super().validate(extra_validators)
        problem = cancel_problem(self.reason.data, self.note.data) if valid else None
        if problem:
            field, message = problem
            self[field].errors = [*self[field].errors, message]
        return valid and problem is None
