from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

#: The largest single adjustment: a typo of a few zeros should not mint a fortune.
MAX_ADJUSTMENT = 1_000_000


class WholePointsField(IntegerField):
    """An integer field whose "not a number" error says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(ENTER_POINTS) from None


ENTER_POINTS = "Enter a whole number of points, e.g. 500 or -200."


class PointsAdjustForm(FlaskForm):
    """The admin's adjustment of a customer's points: how many (negative takes away) and why."""

    points = WholePointsField(
        "Points (negative to take away)",
        validators=[
            InputRequired(message=ENTER_POINTS),
            NumberRange(
                min=-MAX_ADJUSTMENT,
                max=MAX_ADJUSTMENT,
                message=f"Adjust by at most {MAX_ADJUSTMENT:,} points at a time.",
            ),
        ],
    )
    reason = StringField(
        "Reason",
        validators=[
            DataRequired(message="Say why the points are adjusted."),
            Length(max=200, message="Keep the reason under 200 characters."),
        ],
    )
