"""Offered master products for the storefront tests, made through the catalog's own services."""

from __future__ import annotations

from decimal import Decimal

from portal.catalog import mapping
from portal.catalog.services import create_product
from portal.vendors.services import vendor_for_user
from tests.factories import make_vendor


class Catalog:
    """Makes masters as the mapping service does, each offered by one shop per price."""

    def __init__(self) -> None:
        self._shops: list = []

    def shops(self, count: int) -> list:
        while len(self._shops) < count:
            user = make_vendor(shop_name=f"Shop {len(self._shops) + 1}")
            self._shops.append(vendor_for_user(user))
        return self._shops[:count]

    def master(self, name: str, *prices: str, **fields):
        """A master named ``name``; no prices: a master no shop offers (its product archived)."""
        vendors = self.shops(max(1, len(prices)))
        first = create_product(
            vendors[0],
            title=name,
            price=Decimal(prices[0] if prices else "1.00"),
            inventory=5,
            **fields,
        )
        master = mapping.create_master_from_product(first)
        if prices:
            mapping.map_product(first, master, method="new_master")
        for vendor, price in zip(vendors[1:], prices[1:], strict=False):
            product = create_product(vendor, title=name, price=Decimal(price), inventory=2)
            mapping.map_product(product, master, method="manual", verified=True)
        return master
