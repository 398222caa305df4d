"""A vendor's product list and the changes made from its pages.

Every function takes the vendor explicitly and narrows to its rows; a product id of another shop is
simply not found. Every change of price, inventory, title or status ends with
``aggregates.refresh_for_products`` so the unified catalog follows. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..inputs import constraint_of
from ..media import store_image
from ..pagination import Paged, clamp_page
from .aggregates import refresh_for_products
from .imports import ValueRejected, parse_inventory, parse_price
from .models import Brand, Product, ProductCategory, ProductImage, VendorProductMapping
from .services import get_or_create_brand, get_or_create_category

SKU_CONSTRAINT = "unique_vendor_sku"
PER_PAGE = 25
MAX_IMAGES = 6
SORTS = {
    "title": (Product.title, "Title"),
    "price": (Product.price, "Price"),
    "inventory": (Product.inventory, "Inventory"),
    "updated": (Product.updated_at, "Last updated"),
}


class ProductError(ValueError):
    """A change the vendor must correct; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ProductFilter:
    q: str = ""
    category: uuid.UUID | None = None
    brand: uuid.UUID | None = None
    in_stock: bool = False
    mapping: str = ""  # "", "mapped", "unmapped"
    sort: str = "updated"
    descending: bool = True
    archived: bool = False

    @classmethod
    def from_args(cls, args: MultiDict) -> ProductFilter:
        sort = args.get("sort", "updated")
        descending = sort.startswith("-") or (sort == "updated" and "sort" not in args)
        sort = sort.lstrip("-")
        if sort not in SORTS:
            sort, descending = "updated", True
        mapping = args.get("mapping", "")
        return cls(
            q=(args.get("q") or "").strip()[:200],
            category=_uuid_or_none(args.get("category")),
            brand=_uuid_or_none(args.get("brand")),
            in_stock=args.get("in_stock") in ("1", "on", "true"),
            mapping=mapping if mapping in ("mapped", "unmapped") else "",
            sort=sort,
            descending=descending,
            archived=args.get("archived") in ("1", "on", "true"),
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query-string parameters for this filter (with ``changes``), empty values left out."""
        values = {
            "q": self.q,
            "category": self.category,
            "brand": self.brand,
            "in_stock": "1" if self.in_stock else None,
            "mapping": self.mapping,
            "sort": ("-" if self.descending else "") + self.sort,
            "archived": "1" if self.archived else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "", False)}


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@dataclass
class ProductPage(Paged):
    products: list[Product]
    mapped_ids: set[uuid.UUID]
    page: int
    per_page: int
    total_rows: int
    filters: ProductFilter = field(default_factory=ProductFilter)


def _mapped(vendor_id: uuid.UUID):
    return sa.exists().where(
        VendorProductMapping.vendor_product_id == Product.id,
        VendorProductMapping.vendor_id == vendor_id,
    )


def product_page(
    vendor_id: uuid.UUID, filters: ProductFilter, page: int = 1, per_page: int = PER_PAGE
) -> ProductPage:
    query = sa.select(Product).where(Product.vendor_id == vendor_id)
    if not filters.archived:
        query = query.where(Product.status == "active")
    if filters.q:
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        digits = filters.q.replace(" ", "").replace("-", "")
        conditions = [Product.title.ilike(pattern), Product.sku.ilike(pattern)]
        if digits.isdigit():
            conditions.append(Product.gtin.like(digits + "%"))
        query = query.where(sa.or_(*conditions))
    if filters.category:
        query = query.where(Product.category_id == filters.category)
    if filters.brand:
        query = query.where(Product.brand_id == filters.brand)
    if filters.in_stock:
        query = query.where(Product.inventory > 0)
    if filters.mapping == "mapped":
        query = query.where(_mapped(vendor_id))
    elif filters.mapping == "unmapped":
        query = query.where(~_mapped(vendor_id))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    column = SORTS[filters.sort][0]
    order = column.desc() if filters.descending else column.asc()
    products = list(
        db.session.scalars(
            query.options(sa.orm.joinedload(Product.brand), sa.orm.joinedload(Product.category))
            .order_by(order, Product.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    mapped_ids = set(
        db.session.scalars(
            sa.select(VendorProductMapping.vendor_product_id).where(
                # The shop's own key first, so ``unique_vendor_product`` serves the lookup.
                VendorProductMapping.vendor_id == vendor_id,
                VendorProductMapping.vendor_product_id.in_([p.id for p in products]),
            )
        )
    )
    return ProductPage(products, mapped_ids, page, per_page, total, filters)


def is_mapped(product_id: uuid.UUID) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.exists().where(VendorProductMapping.vendor_product_id == product_id))
        )
    )


# The filter bar's choices: rows of (id, name), not whole objects, read on every list page.


def vendor_brands(vendor_id: uuid.UUID) -> list[sa.Row]:
    return db.session.execute(
        sa.select(Brand.id, Brand.name)
        .where(Brand.id.in_(sa.select(Product.brand_id).where(Product.vendor_id == vendor_id)))
        .order_by(Brand.name)
    ).all()


def vendor_categories(vendor_id: uuid.UUID) -> list[sa.Row]:
    return db.session.execute(
        sa.select(ProductCategory.id, ProductCategory.name)
        .where(
            ProductCategory.id.in_(
                sa.select(Product.category_id).where(Product.vendor_id == vendor_id)
            )
        )
        .order_by(ProductCategory.name)
    ).all()


def all_brand_names() -> list[str]:
    return list(db.session.scalars(sa.select(Brand.name).order_by(Brand.name).limit(500)))


def all_category_names() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ProductCategory.name).order_by(ProductCategory.name).limit(500)
        )
    )


def get_vendor_product(vendor_id: uuid.UUID, product_id: uuid.UUID) -> Product | None:
    return db.session.scalar(
        sa.select(Product).where(Product.id == product_id, Product.vendor_id == vendor_id)
    )


# --- changes --------------------------------------------------------------------------------


INLINE_FIELDS = ("price", "inventory")


def update_inline(product: Product, field_name: str, text: str) -> Product:
    """Set the price or inventory from what was typed in the list; raises :class:`ProductError`."""
    try:
        if field_name == "price":
            product.price = parse_price(text)
        elif field_name == "inventory":
            product.inventory = parse_inventory(text)
        else:
            raise ProductError("That field cannot be edited here.")
    except ValueRejected as error:
        raise ProductError(str(error), field_name) from None
    db.session.flush()
    refresh_for_products([product.id])
    return product


def sku_taken(vendor_id: uuid.UUID, sku: str, except_id: uuid.UUID | None = None) -> bool:
    query = sa.select(sa.exists().where(Product.vendor_id == vendor_id, Product.sku == sku))
    if except_id is not None:
        query = sa.select(
            sa.exists().where(
                Product.vendor_id == vendor_id, Product.sku == sku, Product.id != except_id
            )
        )
    return bool(db.session.scalar(query))


@dataclass
class ProductData:
    title: str
    price: Decimal
    inventory: int
    description: str | None = None
    sku: str | None = None
    gtin: str | None = None
    brand: str | None = None
    category: str | None = None
    attributes: dict[str, str] | None = None


def save_product(vendor, data: ProductData, product: Product | None = None) -> Product:
    """Create (``product`` None) or update a product from the form's cleaned data.

    The SKU check runs first for a clear message; the unique index decides a race (two requests
    saving one SKU at once): the loser's savepoint is rolled back and it gets the same message.
    """
    sku_message = (
        f"You already have a product with SKU {data.sku!r}; SKUs are unique within a shop."
    )
    if data.sku and sku_taken(vendor.id, data.sku, product.id if product else None):
        raise ProductError(sku_message, "sku")
    try:
        with db.session.begin_nested():
            if product is None:
                product = Product(vendor_id=vendor.id, status="active")
                db.session.add(product)
            product.title = data.title
            product.description = data.description
            product.sku = data.sku
            product.gtin = data.gtin
            product.price = data.price
            product.inventory = data.inventory
            product.attributes = data.attributes
            product.brand_id = get_or_create_brand(data.brand).id if data.brand else None
            product.category_id = (
                get_or_create_category(data.category).id if data.category else None
            )
            db.session.flush()
    except IntegrityError as error:
        if constraint_of(error) == SKU_CONSTRAINT:
            raise ProductError(sku_message, "sku") from None
        raise
    refresh_for_products([product.id])
    return product


def set_archived(product: Product, archived: bool) -> Product:
    product.status = "archived" if archived else "active"
    db.session.flush()
    refresh_for_products([product.id])
    return product


def product_images(product: Product) -> list[ProductImage]:
    return list(
        db.session.scalars(
            sa.select(ProductImage)
            .where(ProductImage.product_id == product.id)
            .order_by(ProductImage.position, ProductImage.created_at)
        )
    )


def add_image(product: Product, upload, max_pixels: int) -> ProductImage:
    """Store an uploaded photo (raises ``media.ImageRejected``) at the end of the gallery."""
    images = product_images(product)
    if len(images) >= MAX_IMAGES:
        raise ProductError(f"A product has at most {MAX_IMAGES} photos; remove one first.", "image")
    path = store_image(upload, "products", max_pixels)
    image = ProductImage(
        product_id=product.id, path=path, position=(images[-1].position + 1) if images else 0
    )
    db.session.add(image)
    db.session.flush()
    return image


def remove_image(product: Product, image_id: uuid.UUID) -> str | None:
    """Delete the image row; returns its file path, to delete after the commit (None: not found)."""
    image = db.session.scalar(
        sa.select(ProductImage).where(
            ProductImage.id == image_id, ProductImage.product_id == product.id
        )
    )
    if image is None:
        return None
    path = image.path
    db.session.delete(image)
    db.session.flush()
    return path


def parse_attribute_lines(text: str | None) -> dict[str, str] | None:
    """``key: value`` lines (the form's textarea) into a dict; raises :class:`ProductError`."""
    pairs: dict[str, str] = {}
    for n, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ProductError(f"Line {n}: write attributes as “key: value”.", "attributes")
        pairs[key.strip()[:100]] = value.strip()[:500]
    return pairs or None


def format_attribute_lines(attributes: dict[str, Any] | None) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (attributes or {}).items())
