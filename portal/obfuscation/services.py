"""What a product looks like outside the marketplace, and the admin's classifications and
obfuscations (PRODUCT.md, "Product obfuscation").

``outside_view(product, audience)`` is the one rule: every payload that leaves the portal with
product details (a delivery provider's items, later Stripe's line items and statement text, a
receipt) takes its name, description, category and brand from it. A product with an obfuscation
whose classification applies to that audience shows only the obfuscated values; a value the
obfuscation leaves empty stays empty (never the real one). Any other product shows itself.

Like every service: explicit arguments, domain errors, ``flush()`` and never commit.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..catalog.models import Product
from ..extensions import db
from ..inputs import constraint_of
from ..pagination import Paged, clamp_page
from .models import ObfuscationClassification, ProductObfuscation

#: The outside parties a classification can apply to (its ``applies_to_*`` columns).
AUDIENCES = ("payments", "deliveries", "receipts")
AUDIENCE_LABELS = {
    "payments": "Payment processor (Stripe)",
    "deliveries": "Delivery provider (DoorDash)",
    "receipts": "Receipts",
}
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CODE_MAX = 50
NAME_MAX = 255


class ObfuscationError(ValueError):
    """A refused change; ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OutsideProduct:
    """A product as an outside party sees it."""

    name: str
    description: str | None
    category: str | None
    brand: str | None
    obfuscated: bool


def outside_view(product: Product, audience: str = "deliveries") -> OutsideProduct:
    """The product as ``audience`` (payments, deliveries, receipts) sees it."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    obfuscation = product.obfuscation
    if obfuscation is not None and obfuscation.classification.applies_to(audience):
        return OutsideProduct(
            name=obfuscation.obfuscated_name,
            description=obfuscation.obfuscated_description,
            category=obfuscation.obfuscated_category,
            brand=obfuscation.obfuscated_brand,
            obfuscated=True,
        )
    return OutsideProduct(
        name=product.title,
        description=product.description,
        category=product.category.name if product.category else None,
        brand=product.brand.name if product.brand else None,
        obfuscated=False,
    )


def outside_line_name(item, audience: str = "deliveries") -> OutsideProduct:
    """An order line as ``audience`` sees it: its product's outside view when the line names a
    product that is obfuscated for it, else the line's own title (what the customer bought)."""
    if item.product is not None:
        view = outside_view(item.product, audience)
        if view.obfuscated:
            return view
    return OutsideProduct(
        name=item.title, description=None, category=None, brand=None, obfuscated=False
    )


def preview(product: Product) -> dict[str, OutsideProduct]:
    """What each outside party sees of the product (the admin's preview)."""
    return {audience: outside_view(product, audience) for audience in AUDIENCES}


# --- classifications ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationRow:
    classification: ObfuscationClassification
    products: int


def classifications() -> list[ClassificationRow]:
    counts = (
        sa.select(ProductObfuscation.classification_code, sa.func.count().label("n"))
        .group_by(ProductObfuscation.classification_code)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ObfuscationClassification, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(
            counts, counts.c.classification_code == ObfuscationClassification.classification_code
        )
        .order_by(ObfuscationClassification.classification_code)
    ).all()
    return [ClassificationRow(c, n) for c, n in rows]


def classification(code: str) -> ObfuscationClassification | None:
    return db.session.scalar(
        sa.select(ObfuscationClassification).where(
            ObfuscationClassification.classification_code == code
        )
    )


def _clean_code(code: str | None) -> str:
    code = (code or "").strip().lower()
    if not code:
        raise ObfuscationError("Give the classification a code.", "classification_code")
    if len(code) > CODE_MAX or not CODE_PATTERN.match(code):
        raise ObfuscationError(
            f"A code is up to {CODE_MAX} lower-case letters, digits, - and _, starting with a "
            "letter or digit (e.g. adult-wellness).",
            "classification_code",
        )
    return code


def _clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if not description:
        raise ObfuscationError("Say what the classification covers.", "description")
    return description


def create_classification(
    code: str,
    description: str,
    *,
    applies_to_payments: bool = True,
    applies_to_deliveries: bool = True,
    applies_to_receipts: bool = True,
) -> ObfuscationClassification:
    code = _clean_code(code)
    row = ObfuscationClassification(
        classification_code=code,
        description=_clean_description(description),
        applies_to_payments=applies_to_payments,
        applies_to_deliveries=applies_to_deliveries,
        applies_to_receipts=applies_to_receipts,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as error:
        if constraint_of(error) == "unique_classification_code":
            raise ObfuscationError(
                f"There is a classification “{code}” already.", "classification_code"
            ) from None
        raise
    return row


def update_classification(
    row: ObfuscationClassification,
    *,
    description: str,
    applies_to_payments: bool,
    applies_to_deliveries: bool,
    applies_to_receipts: bool,
) -> ObfuscationClassification:
    """Its description and audiences; the code stays (obfuscations and outside records name it)."""
    row.description = _clean_description(description)
    row.applies_to_payments = applies_to_payments
    row.applies_to_deliveries = applies_to_deliveries
    row.applies_to_receipts = applies_to_receipts
    db.session.flush()
    return row


# --- a product's obfuscation --------------------------------------------------------------


def product_for_obfuscation(product_id: uuid.UUID) -> Product | None:
    return db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .options(
            selectinload(Product.obfuscation),
            selectinload(Product.brand),
            selectinload(Product.category),
            selectinload(Product.vendor),
        )
    )


def _optional(value: str | None, limit: int | None, field: str, label: str) -> str | None:
    value = (value or "").strip() or None
    if value and limit and len(value) > limit:
        raise ObfuscationError(f"Keep the {label} to {limit} characters.", field)
    return value


def save_obfuscation(
    product: Product,
    *,
    classification_code: str,
    name: str,
    description: str | None = None,
    category: str | None = None,
    brand: str | None = None,
) -> ProductObfuscation:
    """Set the product's neutral name, description, category and brand, in a classification.

    The outside values must not give the real ones away: none of them may repeat the product's
    real name, brand or category (a neutral name that contains the real one hides nothing).
    """
    found = classification((classification_code or "").strip())
    if found is None:
        raise ObfuscationError("Choose one of the classifications.", "classification_code")
    name = _optional(name, NAME_MAX, "obfuscated_name", "neutral name")
    if not name:
        raise ObfuscationError("Give the neutral name outside parties see.", "obfuscated_name")
    values = {
        "obfuscated_name": name,
        "obfuscated_description": _optional(
            description, None, "obfuscated_description", "description"
        ),
        "obfuscated_category": _optional(category, NAME_MAX, "obfuscated_category", "category"),
        "obfuscated_brand": _optional(brand, NAME_MAX, "obfuscated_brand", "brand"),
    }
    _refuse_giveaways(product, values)
    obfuscation = product.obfuscation
    if obfuscation is None:
        obfuscation = ProductObfuscation(
            product_id=product.id, classification_code=found.classification_code
        )
        db.session.add(obfuscation)
        product.obfuscation = obfuscation
    obfuscation.classification_code = found.classification_code
    obfuscation.classification = found
    for key, value in values.items():
        setattr(obfuscation, key, value)
    db.session.flush()
    return obfuscation


def _refuse_giveaways(product: Product, values: dict[str, str | None]) -> None:
    real = {
        "name": product.title,
        "brand": product.brand.name if product.brand else None,
        "category": product.category.name if product.category else None,
    }
    for field, value in values.items():
        if not value:
            continue
        for what, secret in real.items():
            if secret and len(secret.strip()) >= 3 and secret.strip().lower() in value.lower():
                raise ObfuscationError(
                    f"This gives the product's real {what} (“{secret}”) away; use a neutral word.",
                    field,
                )


def remove_obfuscation(product: Product) -> None:
    if product.obfuscation is not None:
        db.session.delete(product.obfuscation)
        db.session.flush()
        db.session.expire(product, ["obfuscation"])


# --- the admin's product list -------------------------------------------------------------


@dataclass(frozen=True)
class ProductPage(Paged):
    rows: list[Product]
    page: int
    per_page: int
    total_rows: int


def product_page(
    search: str | None = None, *, only_obfuscated: bool = False, page: int = 1, per_page: int = 25
) -> ProductPage:
    """Products by title (a part of it, any case), obfuscated ones first, with their shop."""
    query = sa.select(Product).outerjoin(ProductObfuscation)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Product.title.ilike(f"%{escaped}%", escape="\\"))
    if only_obfuscated:
        query = query.where(ProductObfuscation.id.is_not(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    rows = db.session.scalars(
        query.options(selectinload(Product.obfuscation), selectinload(Product.vendor))
        .order_by(ProductObfuscation.id.is_(None), Product.title, Product.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return ProductPage(list(rows), page, per_page, total)
