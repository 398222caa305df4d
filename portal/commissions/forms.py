from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional, Regexp, ValidationError

from ..forms import choices
from ..periods import Period, PeriodError
from .statements import STATUSES, StatementFilter


class StatementFilterForm(FlaskForm):
    """Filters read from the query string (GET changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    month = StringField(
        "Month", validators=[Optional(), Regexp(r"^\d{4}-\d{2}$", message="Use the form YYYY-MM.")]
    )
    status = SelectField(
        "Status",
        choices=choices([("", "Any status"), *((s, s.title()) for s in STATUSES)]),
        validators=[Optional()],
    )

    def validate_month(self, field) -> None:
        if field.data:
            try:
                Period.parse(field.data)
            except PeriodError:
                raise ValidationError("That month does not exist.") from None

    def to_filter(self) -> StatementFilter:
        year = month = None
        if (self.month.data or "").strip() and not self.month.errors:
            period = Period.parse(self.month.data)
            year, month = period.year, period.month
        return StatementFilter(year=year, month=month, status=self.status.data or None)
