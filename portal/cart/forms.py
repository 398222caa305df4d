"""The cart's forms: what they carry is checked by the cart service, which says what is wrong."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


class AddToCartForm(FlaskForm):
    product_id = HiddenField()
    quantity = StringField("Quantity", default="1")
    next = HiddenField()


class QuantityForm(FlaskForm):
    quantity = StringField("Quantity")


class RemoveForm(FlaskForm):
    pass
