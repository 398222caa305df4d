"""The product form and the CSV upload form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .gtin import InvalidGtin, normalize_gtin
from .imports import ValueRejected, parse_inventory, parse_price
from .products import ProductData, ProductError, parse_attribute_lines


class ProductForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    sku = StringField("SKU", validators=[Optional(), Length(max=255)])
    gtin = StringField("GTIN / UPC / EAN", validators=[Optional()])
    brand = StringField(
        "Brand", validators=[Optional(), Length(max=255)], render_kw={"list": "brand-names"}
    )
    category = StringField(
        "Category", validators=[Optional(), Length(max=255)], render_kw={"list": "category-names"}
    )
    price = StringField("Price")
    inventory = StringField("Inventory", default="0")
    attributes = TextAreaField("Attributes (one “key: value” per line)", validators=[Optional()])

    def validate_gtin(self, field) -> None:
        try:
            normalize_gtin(field.data)
        except InvalidGtin as error:
            raise ValidationError(str(error)) from None

    def validate_price(self, field) -> None:
        try:
            parse_price(field.data)
        except ValueRejected as error:
            raise ValidationError(str(error)) from None

    def validate_inventory(self, field) -> None:
        try:
            parse_inventory(field.data)
        except ValueRejected as error:
            raise ValidationError(str(error)) from None

    def validate_attributes(self, field) -> None:
        try:
            parse_attribute_lines(field.data)
        except ProductError as error:
            raise ValidationError(str(error)) from None

    def to_data(self) -> ProductData:
        def clean(value):
            return (value or "").strip() or None

        return ProductData(
            title=self.title.data.strip(),
            description=clean(self.description.data),
            sku=clean(self.sku.data),
            gtin=normalize_gtin(self.gtin.data),
            brand=clean(self.brand.data),
            category=clean(self.category.data),
            price=parse_price(self.price.data),
            inventory=parse_inventory(self.inventory.data),
            attributes=parse_attribute_lines(self.attributes.data),
        )


class ImageForm(FlaskForm):
    image = FileField(
        "Add a photo",
        validators=[
            FileRequired("Choose a photo."),
            FileAllowed(["jpg", "jpeg", "png", "webp"], "Use a JPEG, PNG or WebP image."),
        ],
    )


class ImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[
            FileRequired("Choose a CSV file."),
            FileAllowed(["csv", "txt"], "Upload a .csv file."),
        ],
    )
