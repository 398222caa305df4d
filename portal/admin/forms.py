from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from .. import clock
from ..forms import choices
from ..orders.refund_desk import REFUND_KINDS
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
        if field.data and field.data <= clock.today():
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


class OrderRefundForm(FlaskForm):
    """The admin's refund: what is refunded (the refund rule says how much money that is)."""

    kind = RadioField(
        "Refund",
        choices=choices(REFUND_KINDS),
        validators=[DataRequired(message="Choose what to refund.")],
    )
    # One entry per line of the order, in the page's order of lines.
    quantities = FieldList(
        IntegerField(
            "Quantity",
            validators=[
                Optional(),
                NumberRange(min=0, max=100_000, message="A quantity from 0 to what is left."),
            ],
        )
    )
    reason = StringField(
        "Reason",
        validators=[
            DataRequired(message="Say why the order is refunded."),
            Length(max=200, message="Keep the reason under 200 characters."),
        ],
    )
    # The form's own id: the same form sent twice records one refund.
    token = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])


class OrderHoldForm(FlaskForm):
    reason = StringField(
        "Why hold it",
        validators=[
            DataRequired(message="Say why the order is held."),
            Length(max=200, message="Keep the reason under 200 characters."),
        ],
    )


class AuditFilterForm(FlaskForm):
    """The Audit page's filter, read from the query string (GET changes nothing: no CSRF)."""

    class Meta:
        csrf = False

    action = SelectField("Action", validators=[Optional()])

    def __init__(self, *args, actions: list[str], label, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = choices([("", "Every action"), *((a, label(a)) for a in actions)])

    def chosen(self) -> str | None:
        """The action to show, or None for all (a value not in the list is shown as an error)."""
        return None if self.action.errors else (self.action.data or None)


class PayoutPauseForm(FlaskForm):
    note = TextAreaField(
        "Why",
        validators=[
            DataRequired(message="Say why the shop's payouts are paused."),
            Length(max=500, message="Keep the note under 500 characters."),
        ],
        description="The shop's owner sees that payouts are paused; this note is for admins.",
    )
