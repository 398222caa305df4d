"""The cart's rules: what can be added, how much, and what a cart holds right now.

A product can go in a cart while it is on sale (active, its shop open) and only up to its
inventory: every change is checked against the stock of the moment, so a cart never promises
what a shop does not have. Stock is not reserved here; the checkout reserves it when the
payment starts, and checks again then. ``summary`` re-reads every line, so a product that sold
out or left the shop since it was added shows as a problem instead of silently disappearing.
Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..catalog.models import Product
from ..clock import utcnow
from ..extensions import db
from ..money import to_money
from ..vendors.models import Vendor
from .models import Cart, CartItem


class CartError(ValueError):
    """A change the cart refuses, with the message the customer reads."""


@dataclass(frozen=True)
class CartLine:
    product_id: uuid.UUID
    title: str
    unit_price: Decimal
    quantity: int
    inventory: int
    problem: str | None  # why this line cannot be bought as it stands, in words

    @property
    def line_total(self) -> Decimal:
        return to_money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class ShopGroup:
    vendor_id: uuid.UUID
    shop_name: str
    shop_slug: str
    lines: list[CartLine] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return to_money(sum((line.line_total for line in self.lines), Decimal("0")))


@dataclass(frozen=True)
class CartSummary:
    shops: list[ShopGroup]

    @property
    def item_count(self) -> int:
        return sum(line.quantity for shop in self.shops for line in shop.lines)

    @property
    def total(self) -> Decimal:
        return to_money(sum((shop.subtotal for shop in self.shops), Decimal("0")))

    @property
    def has_problems(self) -> bool:
        return any(line.problem for shop in self.shops for line in shop.lines)


def max_quantity() -> int:
    return current_app.config["CART_MAX_QUANTITY"]


def parse_quantity(text: str | None, *, allow_zero: bool = False) -> int:
    """A quantity typed by a customer, or a CartError saying what is wrong with it."""
    try:
        quantity = int(str(text or "").strip())
    except ValueError:
        raise CartError("Enter the quantity as a whole number.") from None
    lowest = 0 if allow_zero else 1
    if quantity < lowest:
        raise CartError(f"The quantity must be at least {lowest}.")
    if quantity > max_quantity():
        raise CartError(f"At most {max_quantity()} of one product fit in a cart.")
    return quantity


def customer_cart(customer_id: uuid.UUID) -> Cart:
    """The customer's cart, created on first use (one per customer, even when two tabs race)."""
    db.session.execute(
        pg_insert(Cart)
        .values(customer_id=customer_id)
        .on_conflict_do_nothing(index_elements=["customer_id"])
    )
    return db.session.scalar(sa.select(Cart).where(Cart.customer_id == customer_id))


def guest_cart(cart_id: uuid.UUID | None) -> Cart | None:
    """A guest's cart by the id their session holds; a customer's cart is never a guest's."""
    if cart_id is None:
        return None
    return db.session.scalar(sa.select(Cart).where(Cart.id == cart_id, Cart.customer_id.is_(None)))


def new_guest_cart() -> Cart:
    cart = Cart()
    db.session.add(cart)
    db.session.flush()
    return cart


def _on_sale(product_id: uuid.UUID, *, lock: bool = False) -> tuple[Product, Vendor] | None:
    statement = (
        sa.select(Product, Vendor)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .where(Product.id == product_id, Product.status == "active", Vendor.status == "active")
    )
    if lock:
        # Two tabs adding the same product at once both see the other's quantity.
        statement = statement.with_for_update(of=Product)
    row = db.session.execute(statement).first()
    return (row[0], row[1]) if row else None


def _check_stock(product: Product, quantity: int) -> None:
    if product.inventory <= 0:
        raise CartError(f"“{product.title}” is out of stock.")
    if quantity > product.inventory:
        raise CartError(
            f"Only {product.inventory} of “{product.title}” left: you can have at most that many."
        )


def _item(cart: Cart, product_id: uuid.UUID) -> CartItem | None:
    return db.session.scalar(
        sa.select(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id)
    )


def add(cart: Cart, product_id: uuid.UUID, quantity: int) -> CartItem:
    """Add ``quantity`` more of a product; refused beyond its stock or the cart's limit."""
    found = _on_sale(product_id, lock=True)
    if found is None:
        raise CartError("This product is not on sale any more.")
    product, _ = found
    item = _item(cart, product_id)
    wanted = quantity + (item.quantity if item else 0)
    if wanted > max_quantity():
        raise CartError(f"At most {max_quantity()} of one product fit in a cart.")
    _check_stock(product, wanted)
    if item is None:
        # The app's clock, not the transaction's: lines keep the order they were added in.
        item = CartItem(cart_id=cart.id, product_id=product_id, quantity=wanted, added_at=utcnow())
        db.session.add(item)
    else:
        item.quantity = wanted
    _touch(cart)
    db.session.flush()
    return item


def set_quantity(cart: Cart, product_id: uuid.UUID, quantity: int) -> CartItem | None:
    """Change a line's quantity (0 removes it); a lower quantity is always allowed."""
    item = _item(cart, product_id)
    if item is None:
        raise CartError("That product is not in your cart any more.")
    if quantity == 0:
        return remove(cart, product_id)
    if quantity > item.quantity:
        found = _on_sale(product_id, lock=True)
        if found is None:
            raise CartError("This product is not on sale any more.")
        _check_stock(found[0], quantity)
    item.quantity = quantity
    _touch(cart)
    db.session.flush()
    return item


def remove(cart: Cart, product_id: uuid.UUID) -> None:
    db.session.execute(
        sa.delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id)
    )
    _touch(cart)
    db.session.flush()


def _touch(cart: Cart) -> None:
    cart.updated_at = sa.func.now()


def merge_into(guest: Cart, into: Cart) -> list[str]:
    """Move a guest's lines into the customer's cart at sign-in; the guest cart goes.

    A product in both keeps the larger quantity (the same shopping, seen from two places, not two
    orders), capped at its stock. Returns a message for each line that had to shrink or go.
    """
    notes: list[str] = []
    for guest_item in list(guest.items):
        found = _on_sale(guest_item.product_id, lock=True)
        if found is None:
            notes.append("A product from your cart is not on sale any more and was left out.")
            continue
        product = found[0]
        existing = _item(into, product.id)
        wanted = max(guest_item.quantity, existing.quantity if existing else 0)
        allowed = min(wanted, product.inventory, max_quantity())
        if allowed < wanted:
            notes.append(f"Only {product.inventory} of “{product.title}” left: your cart has that.")
        if allowed <= 0:
            continue
        if existing is None:
            db.session.add(
                CartItem(
                    cart_id=into.id,
                    product_id=product.id,
                    quantity=allowed,
                    added_at=guest_item.added_at,
                )
            )
        else:
            existing.quantity = allowed
    db.session.delete(guest)
    _touch(into)
    db.session.flush()
    return notes


def count(cart: Cart | None) -> int:
    if cart is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CartItem.quantity), 0)).where(
            CartItem.cart_id == cart.id
        )
    )


def summary(cart: Cart | None) -> CartSummary:
    """The cart's lines grouped by shop (in the order first added), each checked as of now."""
    if cart is None:
        return CartSummary([])
    rows = db.session.execute(
        sa.select(CartItem, Product, Vendor)
        .join(Product, Product.id == CartItem.product_id)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .where(CartItem.cart_id == cart.id)
        .order_by(CartItem.added_at, CartItem.id)
    ).all()
    shops: dict[uuid.UUID, ShopGroup] = {}
    for item, product, vendor in rows:
        group = shops.setdefault(vendor.id, ShopGroup(vendor.id, vendor.name, vendor.slug))
        group.lines.append(
            CartLine(
                product_id=product.id,
                title=product.title,
                unit_price=product.price,
                quantity=item.quantity,
                inventory=product.inventory,
                problem=_problem(product, vendor, item.quantity),
            )
        )
    return CartSummary(list(shops.values()))


def _problem(product: Product, vendor: Vendor, quantity: int) -> str | None:
    if product.status != "active" or vendor.status != "active":
        return "No longer on sale: remove it to check out."
    if product.inventory <= 0:
        return "Out of stock now."
    if quantity > product.inventory:
        return f"Only {product.inventory} left now: lower the quantity."
    return None
