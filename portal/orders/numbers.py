"""A shop's human order numbers (#1042): the next one at placement, and an order found by it.

Each shop counts on its own: ``vendor_order_counters`` holds the last number it gave out, and
placing an order takes the next with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``. The
counter row stays locked until the placing transaction ends, so two orders placed at once for one
shop get consecutive numbers, never the same one; a placement that rolls back gives its number
back. ``vendor_order_numbers (vendor_id, number)`` then holds the number's uniqueness across
partitions (``orders`` cannot), and is the index a search by number reads.
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from ..extensions import db
from .models import Order, VendorOrderCounter, VendorOrderNumber

#: What a person types for an order number: ``1042``, ``#1042``, ``# 1042``. Nine digits at most,
#: so it fits the integer column.
NUMBER_PATTERN = re.compile(r"#?\s*(\d{1,9})")


def next_number(vendor_id: uuid.UUID) -> int:
    """The shop's next order number; the shop's counter stays locked until the commit."""
    first = current_app.config["FIRST_ORDER_NUMBER"]
    counter = VendorOrderCounter.__table__
    statement = insert(counter).values(vendor_id=vendor_id, last_number=first)
    statement = statement.on_conflict_do_update(
        index_elements=[counter.c.vendor_id],
        set_={"last_number": counter.c.last_number + 1},
    ).returning(counter.c.last_number)
    return db.session.execute(statement).scalar_one()


def record_number(order: Order) -> None:
    """Claim ``order.number`` for the shop (after the order's flush): a second order with the
    same number would break the primary key, whatever wrote it."""
    db.session.execute(
        sa.insert(VendorOrderNumber).values(
            vendor_id=order.vendor_id,
            number=order.number,
            order_id=order.id,
            order_created_at=order.created_at,
        )
    )


def parse_number(text: str | None) -> int | None:
    """The order number ``text`` names (``1042`` or ``#1042``), or None when it names none."""
    match = NUMBER_PATTERN.fullmatch((text or "").strip())
    return int(match.group(1)) if match else None


def numbered(vendor_id: uuid.UUID, number: int) -> sa.ColumnElement[bool]:
    """The condition "this shop's order with this number", on ``Order``: one primary-key read of
    ``vendor_order_numbers``, never a scan of the shop's orders."""
    found = sa.select(VendorOrderNumber.order_id, VendorOrderNumber.order_created_at).where(
        VendorOrderNumber.vendor_id == vendor_id, VendorOrderNumber.number == number
    )
    return sa.tuple_(Order.id, Order.created_at).in_(found)
