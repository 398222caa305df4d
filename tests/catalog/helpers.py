"""Shared helpers of the catalog tests."""

from __future__ import annotations

import io
from decimal import Decimal

from portal.catalog.services import create_product
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor

HEADER = "sku,title,description,gtin,brand,category,price,inventory,status,attributes"


def shop(**fields):
    user = make_vendor(**fields)
    return user, vendor_for_user(user)


def product(vendor, **fields):
    fields.setdefault("title", "Oat milk 1 l")
    fields.setdefault("price", Decimal("2.49"))
    fields.setdefault("sku", None)
    return create_product(vendor, **fields)


def csv_upload(text: str | bytes, name: str = "products.csv"):
    data = text.encode() if isinstance(text, str) else text
    return {"file": (io.BytesIO(data), name)}
