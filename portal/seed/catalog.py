"""The demo's unified catalog: shops listing the same products in their own words, matched.

The electronics shop's listings are matched first (an empty catalog: each becomes a master), then
the whole catalog, as an admin's "Match the whole catalog" would: the other shops' listings of the
same products map by GTIN or model number, map unreviewed when the model is sure, wait for review
when it is not, and the rest become masters of their own. All through the catalog's services and
the matcher's own pipeline, synchronously.
"""

from __future__ import annotations

import random
from decimal import Decimal

from ..catalog.gtin import check_digit
from ..catalog.match_jobs import catalog_counts, match_now
from ..catalog.services import create_product, get_or_create_brand, get_or_create_category


def _gtin(body: str) -> str:
    return body + str(check_digit(body))


HEADPHONES_GTIN = _gtin("002724218822")
BULBS_GTIN = _gtin("004664107130")

# Shop name -> (title, brand, category, price, gtin, attributes); the first shop is the catalog's.
LISTINGS = {
    "Pearl District Electronics": [
        ("Sony WH-1000XM4 Wireless Noise Cancelling Headphones", "Sony", "348.00",
         HEADPHONES_GTIN, {"model": "WH-1000XM4"}),
        ("Anker PowerCore 20000 PD Portable Charger A1290", "Anker", "59.99", None,
         {"model": "A1290"}),
        ("JBL Flip 5 Waterproof Portable Bluetooth Speaker", "JBL", "119.95", None, None),
        ("Kobo Clara HD 6 inch E-reader N249", "Kobo", "119.99", None, None),
        ("Logitech MX Master 3 Wireless Mouse 910-005647", "Logitech", "99.99", None, None),
        ("DeWalt DCD771C2 20V MAX Cordless Drill Driver Kit", "DeWalt", "129.00", None, None),
        ("Philips Hue White A19 LED Smart Bulb 4-pack 9.5W", "Philips", "49.99", BULBS_GTIN,
         None),
        ("Samsung T7 Portable SSD 1TB USB 3.2 MU-PC1T0T", "Samsung", "109.99", None, None),
    ],
    "Hawthorne Hardware": [
        ("DeWalt 20V MAX cordless drill/driver kit DCD771C2", "DeWalt", "124.00", None, None),
        ("Philips Hue A19 white smart bulbs, 4 pack", "Philips", "47.99", BULBS_GTIN, None),
        ("Anker portable charger 20000mAh", "Anker", "57.99", None, {"Model": "A1290"}),
        ("Stanley 25 ft tape measure STHT30825", "Stanley", "14.99", None, None),
    ],
    "Alberta Street Gifts": [
        ("Sony WH1000XM4 noise cancelling headphones, black", "Sony", "339.00", None, None),
        ("JBL Flip 5 speaker - ocean blue", "JBL", "114.00", None, None),
        ("Logitech MX Master 3 mouse graphite", "Logitech", "94.99", None, None),
        ("Samsung T7 1TB portable SSD, titan gray", "Samsung", "104.99", None, None),
    ],
}  # fmt: skip


def seed_catalog(rng: random.Random, shops, admin) -> dict[str, int]:
    """List the products above in their shops, run the matcher; returns the catalog's counts."""
    by_name = {vendor.name: vendor for vendor, _ in shops}
    category = get_or_create_category("Electronics")
    for shop_name, listings in LISTINGS.items():
        vendor = by_name[shop_name]
        for number, (title, brand, price, gtin, attributes) in enumerate(listings, start=1):
            create_product(
                vendor,
                title=title,
                sku=f"{vendor.slug[:8].upper()}-CAT-{number:02d}",
                price=Decimal(price),
                inventory=rng.randint(2, 40),
                gtin=gtin,
                brand=get_or_create_brand(brand),
                category=category,
                attributes=attributes,
            )
    match_now("vendor", vendor_id=by_name["Pearl District Electronics"].id, requested_by=admin)
    match_now("catalog", requested_by=admin)
    return catalog_counts()
