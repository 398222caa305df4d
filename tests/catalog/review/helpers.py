"""Proposals made directly, as the matcher would leave them for review."""

from __future__ import annotations

from decimal import Decimal

from portal.catalog import mapping
from portal.catalog.models import MatchProposal
from portal.extensions import db
from tests.catalog.helpers import product, shop

REASONS = [
    {"feature": "codes_shared", "value": 1, "text": "Both name the model number KDL40V4100"},
    {"feature": "price_ratio", "value": 0.92, "text": "Prices within 8% of each other"},
]


def master_with(vendor, title: str, price: str = "10.00", inventory: int = 3):
    """A master made from (and mapped to) one of ``vendor``'s products."""
    source = product(vendor, title=title, price=Decimal(price), inventory=inventory)
    master = mapping.create_master_from_product(source)
    mapping.map_product(source, master, method="new_master", verified=True)
    return master


def propose(
    vendor,
    master,
    title: str = "Sony Bravia KDL-40V4100",
    confidence="0.75",
    method="model",
    **fields,
):
    item = product(vendor, title=title, **fields)
    proposal = MatchProposal(
        vendor_id=vendor.id,
        vendor_product_id=item.id,
        master_product_id=master.id,
        confidence=Decimal(confidence),
        match_method=method,
        reasons=REASONS,
    )
    db.session.add(proposal)
    db.session.flush()
    return proposal


__all__ = ["master_with", "product", "propose", "shop"]
