"""A small catalog for the matcher's tests: masters made from one shop's products, through the
mapping service, as the matcher itself makes them."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app

from portal.catalog import mapping
from portal.catalog.services import get_or_create_brand
from tests.catalog.helpers import product, shop

TELEVISIONS = [
    ("Sony Bravia KDL-40V4100 40 inch LCD HDTV", "Sony", "899.00"),
    ("Sony Bravia KDL-46V4100 46 inch LCD HDTV", "Sony", "1199.00"),
    ("Samsung LN40A550 40 inch LCD HDTV", "Samsung", "849.00"),
    ("Panasonic Lumix DMC-FX500 10MP digital camera", "Panasonic", "299.00"),
    ("Canon PowerShot SD1100 IS 8MP digital camera", "Canon", "199.00"),
    ("Garmin nuvi 260W 4.3 inch GPS navigator", "Garmin", "249.00"),
    ("Logitech Harmony 890 universal remote", "Logitech", "199.00"),
    ("Bose QuietComfort 3 noise cancelling headphones", "Bose", "349.00"),
]


def master_shop(rows=TELEVISIONS, shop_name="Master Shop"):
    """A shop whose products are each a master of their own; returns (vendor, {title: master})."""
    _, vendor = shop(shop_name=shop_name)
    masters = {}
    for title, brand, price in rows:
        own = product(vendor, title=title, brand=get_or_create_brand(brand), price=Decimal(price))
        master = mapping.create_master_from_product(own)
        mapping.map_product(own, master, method="new_master")
        masters[title] = master
    return vendor, masters


class configured:
    """Set app config keys for a block, and put the old values back after it."""

    def __init__(self, **values):
        self.values = values

    def __enter__(self):
        self.saved = {key: current_app.config.get(key) for key in self.values}
        current_app.config.update(self.values)

    def __exit__(self, *exc):
        current_app.config.update(self.saved)


def tv_listing(vendor):
    """Another shop's listing of the first television, worded its own way."""
    return product(
        vendor,
        title="Sony KDL40V4100 Bravia 40' LCD TV black",
        brand=get_or_create_brand("Sony"),
        price=Decimal("879.00"),
    )
