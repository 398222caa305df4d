"""Test data made through the features' own services, as the app makes it."""

from __future__ import annotations

import itertools

from portal.auth import services as accounts

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def _email(role: str) -> str:
    return f"{role}{next(_counter)}@example.com"


def make_customer(email: str | None = None, **fields):
    fields.setdefault("full_name", "Casey Customer")
    return accounts.register_customer(
        email=email or _email("customer"), password=PASSWORD, **fields
    )


def make_vendor(email: str | None = None, **fields):
    fields.setdefault("shop_name", "Corner Shop")
    fields.setdefault("vendor_type", "shop")
    fields.setdefault("contact_phone", "+1 555 0100")
    return accounts.register_vendor(email=email or _email("vendor"), password=PASSWORD, **fields)


def make_driver(email: str | None = None, **fields):
    fields.setdefault("full_name", "Dana Driver")
    fields.setdefault("phone", "+1 555 0199")
    fields.setdefault("vehicle_type", "bicycle")
    fields.setdefault("license_number", "D1234567")
    return accounts.register_driver(email=email or _email("driver"), password=PASSWORD, **fields)


def make_admin(email: str | None = None):
    return accounts.create_admin(email or _email("admin"), PASSWORD)


MAKERS = {
    "customer": make_customer,
    "vendor": make_vendor,
    "driver": make_driver,
    "admin": make_admin,
}
