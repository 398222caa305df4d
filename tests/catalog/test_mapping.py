"""The mapping service: one mapping per product, both masters' aggregates, superseded proposals."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.models import MatchProposal, VendorProductMapping
from portal.catalog.services import get_or_create_brand
from portal.extensions import db
from tests.catalog.helpers import product, shop


def test_new_master_from_product_has_slug_meta_and_match_fields(db_session):
    _, vendor = shop(shop_name="Volt")
    brand = get_or_create_brand("Panasonic")
    first = product(
        vendor,
        title='Panasonic Lumix DMC-FX500 10MP 3" camera',
        description="A compact camera. " * 20,
        brand=brand,
        attributes={"Model": "DMC-FX500K", "colour": "black"},
    )
    master = mapping.create_master_from_product(first)
    again = mapping.create_master_from_product(first)

    assert master.slug == "panasonic-lumix-dmc-fx500-10mp-3-camera"
    assert again.slug == master.slug + "-2"
    assert master.normalized_name == "panasonic lumix dmc-fx500 10mp 3 inch camera"
    assert {"dmcfx500", "fx500", "dmcfx500k"} <= set(master.model_codes)
    assert "10mp" not in master.model_codes  # a quantity, not a model number
    assert "panasonic" in master.match_text and "compact camera" in master.match_text
    assert master.meta_title == first.title
    assert len(master.meta_description) <= 160 and master.meta_description.endswith("…")
    assert master.attributes == first.attributes and master.brand_id == brand.id


def test_map_remap_unmap_keep_both_masters_right(db_session):
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    a = product(one, title="Oat milk", price=Decimal("2.00"), inventory=5)
    b = product(two, title="Oat drink", price=Decimal("3.00"), inventory=7)
    oat = mapping.create_master_from_product(a)
    other = mapping.create_master_from_product(b)

    mapping.map_product(a, oat, method="new_master", confidence=None)
    made = mapping.map_product(b, oat, method="model", confidence=0.934)
    assert made.match_confidence == Decimal("0.93") and made.verified is False
    assert (oat.lowest_price, oat.highest_price, oat.total_inventory, oat.vendor_count) == (
        Decimal("2.00"),
        Decimal("3.00"),
        12,
        2,
    )

    moved = mapping.map_product(b, other, method="manual", verified=True)
    assert moved.verified is True and moved.master_product_id == other.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VendorProductMapping)) == 2
    assert (oat.total_inventory, oat.vendor_count, oat.highest_price) == (5, 1, Decimal("2.00"))
    assert (other.total_inventory, other.vendor_count) == (7, 1)

    assert mapping.unmap_product(b) == other.id
    db.session.expire(other)
    assert (other.total_inventory, other.vendor_count, other.lowest_price) == (0, 0, None)
    assert mapping.unmap_product(b) is None


def test_mapping_supersedes_the_pending_proposal(db_session):
    _, vendor = shop(shop_name="One")
    p = product(vendor, title="Oat milk")
    master = mapping.create_master_from_product(product(vendor, title="Oat milk 1l"))
    proposal = MatchProposal(
        vendor_id=vendor.id,
        vendor_product_id=p.id,
        master_product_id=master.id,
        confidence=Decimal("0.7"),
        match_method="model",
    )
    db.session.add(proposal)
    db.session.flush()

    mapping.map_product(p, master, method="model", confidence=0.99)
    db.session.refresh(proposal)
    assert proposal.status == "superseded"


def test_unknown_method_is_refused(db_session):
    _, vendor = shop(shop_name="One")
    p = product(vendor)
    master = mapping.create_master_from_product(p)
    with pytest.raises(mapping.MappingError, match="guess"):
        mapping.map_product(p, master, method="guess")
