"""A small review queue for development: two shops' look-alike products and proposals between
them, as the matcher would leave them, so the review page has something to show without a
matcher run (``flask catalog review-fixture``). Products and masters are made through the
catalog's own services; the proposals are written directly, as the matcher writes them.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ...extensions import db
from ...vendors.models import Vendor
from .. import mapping
from ..models import MatchProposal
from ..services import create_product, get_or_create_brand, get_or_create_category

# (master title, the other shop's title, brand, category, master price, offer price,
#  confidence, method, reasons in words)
PAIRS = (
    ("Sony Bravia KDL-40V4100 40in LCD TV", "Sony KDL40V4100 television 40 inch", "Sony",
     "Televisions", "499.00", "479.00", "0.93", "model",
     ("Both name the model number KDL40V4100", "Both say 40 inch", "Prices within 5%")),
    ("Canon EOS 50D digital SLR body", "Canon EOS 500D kit with 18-55mm lens", "Canon",
     "Cameras", "899.00", "749.00", "0.71", "model",
     ("Names share 3 of 6 words", "Model numbers differ: 50D and 500D")),
    ("Garmin USB cable 010-10723-01", "Garmin replacement USB cable 0101072301", "Garmin",
     "Accessories", "19.99", "17.50", "0.62", "fuzzy",
     ("Part numbers agree once hyphens are removed", "Brand Garmin on both")),
    ("Logitech Harmony 1000 universal remote", "Logitech Harmony 966230-0403 remote", "Logitech",
     "Accessories", "249.00", "239.00", "0.55", "model",
     ("Brand Logitech on both", "No model number in common")),
    ("Maytag MMV4205BAQ over-the-range microwave", "Maytag MMV4205BT microwave oven", "Maytag",
     "Kitchen", "329.00", "315.00", "0.48", "model",
     ("Model numbers share the prefix MMV4205", "Colour suffixes differ")),
)  # fmt: skip


def load(catalog_vendor: Vendor, offering_vendor: Vendor) -> int:
    """Add the fixture's masters (from ``catalog_vendor``) and proposals (for
    ``offering_vendor``'s look-alikes); returns how many proposals were added."""
    added = 0
    for master_title, title, brand, category, price, offer, confidence, method, reasons in PAIRS:
        brand_row, category_row = get_or_create_brand(brand), get_or_create_category(category)
        source = create_product(
            catalog_vendor,
            title=master_title,
            price=Decimal(price),
            inventory=4,
            brand=brand_row,
            category=category_row,
        )
        master = mapping.create_master_from_product(source)
        mapping.map_product(source, master, method="new_master", verified=True)
        item = create_product(
            offering_vendor,
            title=title,
            price=Decimal(offer),
            inventory=2,
            brand=brand_row,
            category=category_row,
        )
        db.session.add(
            MatchProposal(
                vendor_id=offering_vendor.id,
                vendor_product_id=item.id,
                master_product_id=master.id,
                confidence=Decimal(confidence),
                match_method=method,
                reasons=[{"feature": "fixture", "value": None, "text": text} for text in reasons],
            )
        )
        added += 1
    db.session.flush()
    return added


def two_shops() -> tuple[Vendor, Vendor] | None:
    shops = db.session.scalars(sa.select(Vendor).order_by(Vendor.created_at).limit(2)).all()
    return (shops[0], shops[1]) if len(shops) == 2 else None
