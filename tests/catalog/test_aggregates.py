"""The unified catalog's aggregates follow price, inventory and archive changes."""

from decimal import Decimal

from portal.catalog import products as svc
from portal.catalog.aggregates import refresh_for_products
from portal.catalog.models import MasterProduct, VendorProductMapping
from portal.extensions import db
from tests.catalog.helpers import product, shop


def mapped(master, vendor, p):
    db.session.add(
        VendorProductMapping(
            master_product_id=master.id,
            vendor_id=vendor.id,
            vendor_product_id=p.id,
            vendor_price=Decimal("0"),
            match_method="manual",
        )
    )
    db.session.flush()


def test_aggregates_follow_changes(db_session):
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    master = MasterProduct(name="Oat milk", normalized_name="oat milk", slug="oat-milk")
    other_master = MasterProduct(name="Soy milk", normalized_name="soy milk", slug="soy-milk")
    db.session.add_all([master, other_master])
    db.session.flush()
    a = product(one, title="Oat milk 1l", sku="O1", price=Decimal("2.00"), inventory=5)
    b = product(two, title="Oat drink", sku="O2", price=Decimal("3.00"), inventory=7)
    c = product(two, title="Oat drink 2", sku="O3", price=Decimal("1.50"), inventory=1)
    unmapped = product(one, title="Loose", sku="L")
    mapped(master, one, a)
    mapped(master, two, b)
    mapped(master, two, c)

    assert refresh_for_products([a.id, b.id, c.id, unmapped.id]) == {master.id}
    db.session.refresh(master)
    assert (
        master.lowest_price,
        master.highest_price,
        master.total_inventory,
        master.vendor_count,
    ) == (Decimal("1.50"), Decimal("3.00"), 13, 2)
    mapping = db.session.query(VendorProductMapping).filter_by(vendor_product_id=b.id).one()
    assert (
        mapping.vendor_price,
        mapping.vendor_inventory,
        mapping.vendor_title,
        mapping.vendor_sku,
    ) == (Decimal("3.00"), 7, "Oat drink", "O2")

    svc.update_inline(c, "price", "4.25")  # the inline edit calls the hook
    db.session.refresh(master)
    assert (master.lowest_price, master.highest_price) == (Decimal("2.00"), Decimal("4.25"))

    svc.set_archived(b, True)  # archived products no longer count
    svc.set_archived(c, True)
    db.session.refresh(master)
    assert (
        master.lowest_price,
        master.highest_price,
        master.total_inventory,
        master.vendor_count,
    ) == (Decimal("2.00"), Decimal("2.00"), 5, 1)
    svc.set_archived(a, True)
    db.session.refresh(master)
    assert (
        master.lowest_price,
        master.highest_price,
        master.total_inventory,
        master.vendor_count,
    ) == (None, None, 0, 0)
    svc.set_archived(c, False)
    db.session.refresh(master)
    assert (master.lowest_price, master.total_inventory, master.vendor_count) == (
        Decimal("4.25"),
        1,
        1,
    )
    db.session.refresh(other_master)
    assert other_master.vendor_count == 0


def test_nothing_to_do(db_session):
    assert refresh_for_products([]) == set()
