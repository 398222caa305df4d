"""The admin's forms for classifications and a product's obfuscation. The rules themselves
(code format, giveaways) are the service's; the forms only shape the input."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import choices
from ..inputs import strip_filter
from .services import CODE_MAX, NAME_MAX


class _Audiences:
    applies_to_payments = BooleanField("Payment processor (Stripe)", default=True)
    applies_to_deliveries = BooleanField("Delivery provider (DoorDash)", default=True)
    applies_to_receipts = BooleanField("Receipts", default=True)


class ClassificationEditForm(_Audiences, FlaskForm):
    """A classification's description and audiences (its code stays)."""

    description = TextAreaField(
        "What it covers",
        filters=[strip_filter],
        validators=[
            DataRequired(message="Say what the classification covers."),
            Length(max=2000, message="Keep the description to 2,000 characters."),
        ],
    )


class ClassificationForm(ClassificationEditForm):
    """A new classification: its code too."""

    classification_code = StringField(
        "Code",
        filters=[strip_filter],
        validators=[
            DataRequired(message="Give the classification a code."),
            Length(max=CODE_MAX, message=f"Keep the code to {CODE_MAX} characters."),
        ],
    )


class ObfuscationForm(FlaskForm):
    classification_code = SelectField(
        "Classification", validators=[DataRequired(message="Choose a classification.")]
    )
    obfuscated_name = StringField(
        "Neutral name",
        filters=[strip_filter],
        validators=[
            DataRequired(message="Give the neutral name outside parties see."),
            Length(max=NAME_MAX, message=f"Keep the name to {NAME_MAX} characters."),
        ],
    )
    obfuscated_description = TextAreaField(
        "Neutral description",
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000, message="Keep it to 2,000 characters.")],
    )
    obfuscated_category = StringField(
        "Neutral category",
        filters=[strip_filter],
        validators=[Optional(), Length(max=NAME_MAX)],
    )
    obfuscated_brand = StringField(
        "Neutral brand",
        filters=[strip_filter],
        validators=[Optional(), Length(max=NAME_MAX)],
    )

    def __init__(self, *args, codes: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.classification_code.choices = choices([("", "Choose a classification…"), *codes])


class ProductSearchForm(FlaskForm):
    """The product list's filter (GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Product title",
        filters=[strip_filter],
        validators=[Optional(), Length(max=100, message="Search for at most 100 characters.")],
    )
    only = BooleanField("Only obfuscated products")


class RemoveForm(FlaskForm):
    """A button that carries the CSRF token."""
