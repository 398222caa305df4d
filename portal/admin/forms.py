from datetime import date

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, ValidationError

from ..forms import choices
from ..periods import Period, PeriodError


class PromotionForm(FlaskForm):
    tier = SelectField(
        "Promotional tier",
        choices=choices([("silver", "Silver"), ("gold", "Gold")]),
        validators=[DataRequired()],
    )
    reason = SelectField("Reason", validators=[DataRequired()])
    expires_on = DateField(
        "Ends on", validators=[DataRequired(message="Pick the day the promotion ends.")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = choices(
            (r, r.replace("_", " ").capitalize()) for r in current_app.config["PROMOTION_REASONS"]
        )

    def validate_expires_on(self, field) -> None:
        if field.data and field.data <= date.today():
            raise ValidationError("The end date must be in the future.")


class MonthCloseForm(FlaskForm):
    month = StringField("Month to close", validators=[DataRequired()])

    def period(self) -> Period:
        return Period.parse(self.month.data)

    def validate_month(self, field) -> None:
        try:
            Period.parse(field.data)
        except PeriodError as error:
            raise ValidationError(str(error)) from None
