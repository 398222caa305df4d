"""Exact matches by each method, then blocking: the right master among the candidates."""

from __future__ import annotations

from decimal import Decimal

from portal.catalog import mapping
from portal.catalog.matching import blocking
from portal.catalog.matching.loading import active_matcher
from portal.catalog.matching.pipeline import match_batch
from tests.catalog.helpers import product, shop
from tests.catalog.pipeline.helpers import master_shop, tv_listing


def side(p):
    return blocking.vendor_side(p, p.brand.name if p.brand else None)


def test_gtin_of_a_mapped_product_maps_exactly(db_session):
    _, one = shop(shop_name="One")
    first = product(one, title="Oat drink barista 1 l", gtin="4006381333931")
    master = mapping.create_master_from_product(first)
    mapping.map_product(first, master, method="new_master")
    _, two = shop(shop_name="Two")
    second = product(two, title="Barista oat 1000 ml", gtin="4006381333931")

    result = match_batch([second.id], active_matcher())

    mapped = mapping.mapping_of(second.id)
    assert result.exact == 1 and mapped.master_product_id == master.id
    assert mapped.match_method == "gtin" and mapped.verified is False
    assert mapped.match_confidence == Decimal("1.00")


def test_sku_model_number_and_exact_name(db_session):
    _, masters = master_shop()
    _, shop_two = shop(shop_name="Two")
    by_sku = product(shop_two, title="Television 40", sku="KDL-40V4100")
    by_model = product(shop_two, title="Compact camera", attributes={"Model": "DMC-FX500"})
    by_name = product(shop_two, title="logitech harmony 890 universal REMOTE")

    result = match_batch([by_sku.id, by_model.id, by_name.id], active_matcher())

    assert result.exact == 3
    expect = {
        by_sku.id: ("sku", "Sony Bravia KDL-40V4100 40 inch LCD HDTV"),
        by_model.id: ("model_number", "Panasonic Lumix DMC-FX500 10MP digital camera"),
        by_name.id: ("exact_name", "Logitech Harmony 890 universal remote"),
    }
    for product_id, (method, title) in expect.items():
        mapped = mapping.mapping_of(product_id)
        assert (mapped.match_method, mapped.master_product_id) == (method, masters[title].id)


def test_a_key_two_masters_share_decides_nothing(db_session):
    master_shop(
        [("Acme X100 kettle", "Acme", "20.00"), ("Acme X100 kettle steel", "Acme", "25.00")]
    )
    _, two = shop(shop_name="Two")
    kettle = product(two, title="Kettle", attributes={"model": "X100"})
    assert blocking.exact_matches([side(kettle)]) == {}


def test_blocking_finds_the_right_master_and_leaves_the_shops_own_out(db_session):
    vendor, masters = master_shop()
    _, two = shop(shop_name="Two")
    tv = tv_listing(two)
    camera = product(two, title="Lumix FX500 camera by Panasonic, silver")

    found = blocking.candidates([side(tv), side(camera)])

    right_tv = masters["Sony Bravia KDL-40V4100 40 inch LCD HDTV"].id
    right_camera = masters["Panasonic Lumix DMC-FX500 10MP digital camera"].id
    assert right_tv in found[tv.id] and right_camera in found[camera.id]
    assert len(found[tv.id]) < len(masters)  # blocking, not every master
    # The master shop's own second listing of a TV is not matched to its own masters.
    again = product(vendor, title="Sony Bravia KDL-40V4100 40 inch LCD HDTV black")
    assert right_tv not in blocking.candidates([side(again)])[again.id]


def test_trigram_blocking_uses_the_gin_index(db_session):
    import sqlalchemy as sa

    from portal.extensions import db

    master_shop()
    blocking.set_trigram_threshold()
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        db.session.scalars(
            sa.text(
                "EXPLAIN SELECT id FROM master_products WHERE normalized_name % 'sony bravia tv'"
            )
        )
    )
    assert "idx_master_products_name_trgm" in plan
