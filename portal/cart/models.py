"""One cart across shops: a signed-in customer's, or a guest's found through the session cookie."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Product
from ..clock import UTCDateTime
from ..extensions import db


class Cart(db.Model):
    """A customer's cart (``customer_id``) or a guest's (none: the session cookie holds its id).

    A guest's cart becomes the customer's at sign-in (``cart.service.merge_at_sign_in``).
    """

    __tablename__ = "carts"
    __table_args__ = (
        # Guests' carts nobody came back to: the retention job finds them oldest first.
        sa.Index(
            "idx_carts_guest_updated",
            "updated_at",
            postgresql_where=sa.text("customer_id IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        server_default=sa.func.current_timestamp(),
        onupdate=sa.func.current_timestamp(),
    )

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.added_at"
    )


class CartItem(db.Model):
    """A vendor product in a cart; the quantity is checked against inventory on every change."""

    __tablename__ = "cart_items"
    __table_args__ = (
        sa.UniqueConstraint("cart_id", "product_id", name="unique_cart_product"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    cart_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(sa.Integer)
    added_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
