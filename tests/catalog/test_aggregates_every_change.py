"""Master product aggregates stay right after every kind of change, each made through the service
the app uses (mapping, the product form, the inline edit, archive, the CSV import job).

The expected figures come from the test's own model of the catalog (``Catalog``: which product
maps where, at what price and stock, active or not), updated beside each change, never from the
mappings table the code reads. Every master is checked after every change, as loaded in the
session (figures a page would show) and as read back from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog import products as svc
from portal.catalog.imports import submit_import
from portal.catalog.jobs import run_product_import
from portal.catalog.models import MasterProduct
from portal.extensions import db
from tests.catalog.helpers import HEADER, product, shop


@dataclass
class Listing:
    vendor: str
    price: Decimal
    inventory: int
    master: str | None
    active: bool = True


@dataclass
class Catalog:
    """What the test did: the truth the aggregates are held to."""

    listings: dict[str, Listing] = field(default_factory=dict)

    def figures(self, master: str) -> tuple:
        offers = [x for x in self.listings.values() if x.master == master and x.active]
        if not offers:
            return (None, None, 0, 0)
        return (
            min(x.price for x in offers),
            max(x.price for x in offers),
            sum(x.inventory for x in offers),
            len({x.vendor for x in offers}),
        )


@dataclass
class World:
    model: Catalog
    vendors: dict
    products: dict
    masters: dict

    def check(self) -> None:
        for name, master in self.masters.items():
            loaded = (
                master.lowest_price,
                master.highest_price,
                master.total_inventory,
                master.vendor_count,
            )
            stored = db.session.execute(
                sa.select(
                    MasterProduct.lowest_price,
                    MasterProduct.highest_price,
                    MasterProduct.total_inventory,
                    MasterProduct.vendor_count,
                ).where(MasterProduct.id == master.id)
            ).one()
            expected = self.model.figures(name)
            assert tuple(stored) == expected, f"{name} in the database"
            assert loaded == expected, f"{name} as loaded in the session"


# Shop, SKU, price, stock, master. Shop "one" has two products on master "oat" (it counts once).
START = {
    "a": ("one", "A", "2.00", 5, "oat"),
    "b": ("one", "B", "2.60", 1, "oat"),
    "c": ("two", "C", "3.10", 7, "oat"),
    "d": ("two", "D", "9.00", 2, "soy"),
    "e": ("three", "E", "8.50", 4, "soy"),
    "f": ("three", "F", "1.25", 9, None),  # not mapped yet
}


@pytest.fixture
def world(db_session) -> World:
    vendors = {name: shop(shop_name=f"Shop {name}")[1] for name in ("one", "two", "three")}
    made, model = {}, Catalog()
    for key, (vendor, sku, price, stock, _) in START.items():
        made[key] = product(
            vendors[vendor], title=f"Milk {sku}", sku=sku, price=Decimal(price), inventory=stock
        )
    masters = {
        "oat": mapping.create_master_from_product(made["a"]),
        "soy": mapping.create_master_from_product(made["d"]),
        "rice": mapping.create_master_from_product(made["f"]),
    }
    for key, (vendor, _, price, stock, master) in START.items():
        if master:
            mapping.map_product(made[key], masters[master], method="model", confidence=0.95)
        model.listings[key] = Listing(vendor, Decimal(price), stock, master)
    # Loaded once, as a request would have them, and never refreshed by the test.
    for master in masters.values():
        db.session.refresh(master)
    w = World(model, vendors, made, masters)
    w.check()
    return w


def form_data(p, **changes) -> svc.ProductData:
    values = {"title": p.title, "price": p.price, "inventory": p.inventory, "sku": p.sku}
    return svc.ProductData(**(values | changes))


def test_map(world):
    mapping.map_product(world.products["f"], world.masters["soy"], method="gtin")
    world.model.listings["f"].master = "soy"
    world.check()


def test_map_a_new_master_made_from_the_product(world):
    own = mapping.create_master_from_product(world.products["f"])
    mapping.map_product(world.products["f"], own, method="new_master")
    world.masters["own"] = own
    world.model.listings["f"].master = "own"
    world.check()


def test_unmap(world):
    mapping.unmap_product(world.products["a"])  # oat's cheapest leaves
    world.model.listings["a"].master = None
    world.check()


def test_unmap_the_last_offer(world):
    mapping.unmap_product(world.products["d"])
    mapping.unmap_product(world.products["e"])
    world.model.listings["d"].master = world.model.listings["e"].master = None
    world.check()


def test_remap(world):
    mapping.map_product(world.products["c"], world.masters["soy"], method="manual", verified=True)
    world.model.listings["c"].master = "soy"
    world.check()


def test_remap_to_the_same_master_verified(world):
    mapping.map_product(world.products["c"], world.masters["oat"], method="model", verified=True)
    world.check()


def test_price_change_on_the_product_form(world):
    p = world.products["a"]  # the cheapest of oat becomes the dearest
    svc.save_product(world.vendors["one"], form_data(p, price=Decimal("4.00")), p)
    world.model.listings["a"].price = Decimal("4.00")
    world.check()


def test_inventory_change_on_the_product_form(world):
    p = world.products["e"]
    svc.save_product(world.vendors["three"], form_data(p, inventory=0), p)
    world.model.listings["e"].inventory = 0
    world.check()


def test_price_change_inline(world):
    svc.update_inline(world.products["d"], "price", "7.99")
    world.model.listings["d"].price = Decimal("7.99")
    world.check()


def test_inventory_change_inline(world):
    svc.update_inline(world.products["b"], "inventory", "40")
    world.model.listings["b"].inventory = 40
    world.check()


def test_archive_and_restore(world):
    svc.set_archived(world.products["a"], True)
    world.model.listings["a"].active = False
    world.check()
    svc.set_archived(world.products["b"], True)  # shop one has nothing left on oat
    world.model.listings["b"].active = False
    world.check()
    svc.set_archived(world.products["a"], False)
    world.model.listings["a"].active = True
    world.check()


def test_an_archived_product_mapped_or_remapped_does_not_count(world):
    svc.set_archived(world.products["f"], True)
    world.model.listings["f"].active = False
    mapping.map_product(world.products["f"], world.masters["oat"], method="model")
    world.model.listings["f"].master = "oat"
    world.check()
    mapping.map_product(world.products["f"], world.masters["soy"], method="manual")
    world.model.listings["f"].master = "soy"
    world.check()


def test_the_csv_import_job(world, app):
    # Prices, stock and status of mapped products change; a new product arrives unmapped.
    text = "\n".join(
        [
            HEADER,
            "A,Milk A,,,,,5.55,3,active,",
            "B,Milk B,,,,,2.60,1,archived,",
            "N,Milk N,,,,,0.10,100,active,",
        ]
    )
    imp = submit_import(world.vendors["one"], text.encode(), filename="one.csv")
    run_product_import(str(imp.id))
    world.model.listings["a"].price, world.model.listings["a"].inventory = Decimal("5.55"), 3
    world.model.listings["b"].active = False
    world.model.listings["n"] = Listing("one", Decimal("0.10"), 100, None)
    world.check()

    # The same file again changes nothing; the next one brings b back, dearer.
    again = submit_import(world.vendors["one"], text.encode(), filename="one.csv")
    assert run_product_import(str(again.id))["updated"] == 0
    world.check()
    back = "\n".join([HEADER, "B,Milk B,,,,,6.00,2,active,"])
    run_product_import(str(submit_import(world.vendors["one"], back.encode(), filename="b.csv").id))
    world.model.listings["b"] = Listing("one", Decimal("6.00"), 2, "oat")
    world.check()
