from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional, ValidationError

from ..forms import choices
from ..inputs import UnsafeInput, parse_month, strip_filter
from .statements import STATUS_WORDS, STATUSES, StatementFilter


class StatementFilterForm(FlaskForm):
    """Filters read from the query string (GET changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    month = StringField("Month", filters=[strip_filter], validators=[Optional()])
    status = SelectField(
        "Status",
        choices=choices([("", "Any status"), *((s, STATUS_WORDS[s]) for s in STATUSES)]),
        validators=[Optional()],
    )

    def validate_month(self, field) -> None:
        try:
            parse_month(field.data)
        except UnsafeInput as error:
            raise ValidationError(str(error)) from None

    def to_filter(self) -> StatementFilter:
        """Only the filters that validated are applied; the others are shown with their error."""
        first = None if self.month.errors else parse_month(self.month.data)
        status = None if self.status.errors else self.status.data or None
        return StatementFilter(
            year=first.year if first else None, month=first.month if first else None, status=status
        )
