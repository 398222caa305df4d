"""Two shops changing products of one master product at the same moment: both changes count.

Real concurrent transactions (committed, emptied again by ``live_server``). Without a lock, the
second recompute waits for the first's row lock on the master, then writes figures computed from
its own snapshot, which predates the first change: the first change would be lost.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog import products as svc
from portal.catalog.models import MasterProduct, Product
from portal.extensions import db
from tests.catalog.helpers import product, shop


def test_two_price_changes_on_one_master_at_once_both_count(app, live_server, committed):
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    a = product(one, title="Oat A", sku="A", price=Decimal("5.00"), inventory=1)
    b = product(two, title="Oat B", sku="B", price=Decimal("6.00"), inventory=1)
    master = mapping.create_master_from_product(a)
    mapping.map_product(a, master, method="model")
    mapping.map_product(b, master, method="model")
    a_id, b_id, master_id = a.id, b.id, master.id
    committed.commit()

    first_changed, errors = threading.Event(), []

    def change(product_id, price: str, hold: float) -> None:
        try:
            with app.app_context():
                svc.update_inline(db.session.get(Product, product_id), "price", price)
                first_changed.set()
                time.sleep(hold)  # the first transaction stays open while the second one runs
                db.session.commit()
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
            first_changed.set()

    first = threading.Thread(target=change, args=(a_id, "1.00", 1.0))
    first.start()
    assert first_changed.wait(10)
    second = threading.Thread(target=change, args=(b_id, "9.00", 0))
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []

    db.session.expire_all()
    figures = db.session.execute(
        sa.select(
            MasterProduct.lowest_price,
            MasterProduct.highest_price,
            MasterProduct.total_inventory,
            MasterProduct.vendor_count,
        ).where(MasterProduct.id == master_id)
    ).one()
    assert tuple(figures) == (Decimal("1.00"), Decimal("9.00"), 2, 2)
