"""The unified catalog's figures, kept in step with the vendors' products.

``refresh_for_products`` is the hook every price, inventory, title or status change calls: it copies
the products' current values into their mappings, then recomputes each affected master product from
the mappings of its *active* products (archived ones no longer count). Both are single set-based
statements, so an import of 10,000 rows costs two statements, not 10,000. Products without a mapping
(the matcher has not run yet) are simply skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from ..extensions import db
from .models import MasterProduct

_SYNC_MAPPINGS = sa.text(
    """
    UPDATE vendor_product_mappings AS m
       SET vendor_price = p.price,
           vendor_inventory = p.inventory,
           vendor_title = p.title,
           vendor_sku = p.sku,
           updated_at = now()
      FROM products AS p
     WHERE p.id = m.vendor_product_id
       AND p.id = ANY(:ids)
    RETURNING m.master_product_id
    """
)

_RECOMPUTE_MASTERS = sa.text(
    """
    UPDATE master_products AS mp
       SET lowest_price = a.lowest_price,
           highest_price = a.highest_price,
           total_inventory = a.total_inventory,
           vendor_count = a.vendor_count,
           updated_at = now()
      FROM (
        SELECT mp2.id,
               min(m.vendor_price) AS lowest_price,
               max(m.vendor_price) AS highest_price,
               coalesce(sum(m.vendor_inventory), 0) AS total_inventory,
               count(DISTINCT m.vendor_id) AS vendor_count
          FROM master_products AS mp2
          LEFT JOIN (
                vendor_product_mappings AS m
                JOIN products AS p ON p.id = m.vendor_product_id AND p.status = 'active'
               ) ON m.master_product_id = mp2.id
         WHERE mp2.id = ANY(:ids)
         GROUP BY mp2.id
      ) AS a
     WHERE mp.id = a.id
       AND (mp.lowest_price, mp.highest_price, mp.total_inventory, mp.vendor_count)
           IS DISTINCT FROM (a.lowest_price, a.highest_price, a.total_inventory, a.vendor_count)
    """
)


_LOCK_MASTERS = sa.text(
    "SELECT id FROM master_products WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"
)


def refresh_for_products(product_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Sync the mappings of these products and recompute their master products.

    Returns the ids of the master products concerned. Flushes, never commits.
    """
    ids = [uuid.UUID(str(i)) for i in product_ids]
    if not ids:
        return set()
    db.session.flush()
    masters = set(db.session.scalars(_SYNC_MAPPINGS, {"ids": ids}))
    recompute_masters(masters)
    return masters


def recompute_masters(master_ids: Iterable[uuid.UUID]) -> None:
    ids = set(master_ids)
    if not ids:
        return
    # Lock the masters first, in one order (no deadlock between two writers), and compute in the
    # next statement: under READ COMMITTED its snapshot then includes whatever another
    # transaction holding these rows committed. Computed in the same statement that waits for the
    # lock, the figures would come from a snapshot older than that change, and overwrite it.
    db.session.execute(_LOCK_MASTERS, {"ids": list(ids)})
    db.session.execute(_RECOMPUTE_MASTERS, {"ids": list(ids)})
    # The figures were written by SQL: masters already loaded in the session must not go on
    # showing the old ones (a price edit, then a page of the master, in one request).
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, MasterProduct) and instance.id in ids:
            db.session.expire(instance)
