"""The matcher's database side: exact matches, then candidate masters by blocking in PostgreSQL.

Each function takes a whole batch of vendor products and answers in one statement, so a batch of
hundreds costs a handful of round trips. Master-side fields (``normalized_name``,
``model_codes``, ``search_vector``) are kept on the masters by ``catalog.mapping`` and indexed
(GIN trigram, GIN array, GIN tsvector); only the vendor side is computed here, per run.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ..mapping import MODEL_ATTRIBUTE_KEYS, match_fields
from .normalize import codes, compact, is_code, normalize, tokens

# pg_trgm's `%` answers from the GIN index only above this similarity (pg_trgm's default is 0.3).
TRIGRAM_THRESHOLD = 0.3
# Candidates kept per product from each blocking key.
TRIGRAM_LIMIT = 8
CODES_LIMIT = 8
TEXT_LIMIT = 6
# The trigram key runs for the products the code and full-text keys found fewer candidates for.
TRIGRAM_WHEN_FEWER = 3
# Words of the vendor's name that must all be in a master's text for the full-text key.
TEXT_WORDS = 3
_WORD = re.compile(r"^[a-z][a-z0-9]*$")


@dataclass
class VendorSide:
    """A vendor product's match fields, computed once per run."""

    id: uuid.UUID
    vendor_id: uuid.UUID
    normalized_name: str
    model_codes: list[str]
    attribute_codes: list[str]
    sku_code: str | None
    gtin: str | None
    words: str
    fields: dict[str, Any] = field(default_factory=dict)


def model_values(attributes: dict[str, Any] | None) -> list[str]:
    """The attribute values that name a model or part number (``Model: DMC-FX500``)."""
    return [
        str(value)
        for key, value in (attributes or {}).items()
        if key.strip().lower().replace(" ", "_") in MODEL_ATTRIBUTE_KEYS and value
    ]


def attribute_codes(attributes: dict[str, Any] | None) -> list[str]:
    found: set[str] = set()
    for value in model_values(attributes):
        found |= codes(normalize(value))
    return sorted(found)


def text_query(normalized_name: str) -> str:
    """A tsquery over the name's longest plain words (all must be present), '' when none."""
    words = {t for token in tokens(normalized_name) for t in re.split(r"[-/.]", token)}
    chosen = sorted((w for w in words if _WORD.match(w) and len(w) >= 3), key=lambda w: -len(w))
    return " & ".join(sorted(chosen[:TEXT_WORDS]))


def vendor_side(row, brand: str | None) -> VendorSide:
    """From a product (or a row with its id, vendor_id, title, description, sku, gtin,
    attributes) and its brand's name."""
    fields = match_fields(
        row.title, brand=brand, description=row.description, attributes=row.attributes
    )
    sku = compact(normalize(row.sku)) if row.sku else ""
    return VendorSide(
        id=row.id,
        vendor_id=row.vendor_id,
        normalized_name=fields["normalized_name"],
        model_codes=fields["model_codes"],
        attribute_codes=attribute_codes(row.attributes),
        sku_code=sku if len(sku) >= 4 and is_code(sku) else None,
        gtin=row.gtin,
        words=text_query(fields["normalized_name"]),
    )


_EXACT = sa.text(
    """
    WITH q AS (
        SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
            AS q(id uuid, gtin text, sku text, codes varchar[], name text)
    ), found AS (
        SELECT q.id, 'gtin' AS method, 1 AS rank, m.master_product_id AS master_id
          FROM q
          JOIN products p ON p.gtin = q.gtin AND p.id <> q.id
          JOIN vendor_product_mappings m ON m.vendor_product_id = p.id
         WHERE q.gtin IS NOT NULL
        UNION
        SELECT q.id, 'sku', 2, mp.id
          FROM q JOIN master_products mp ON mp.model_codes @> ARRAY[q.sku]::varchar[]
         WHERE q.sku IS NOT NULL
        UNION
        SELECT q.id, 'model_number', 3, mp.id
          FROM q JOIN master_products mp ON mp.model_codes && q.codes
         WHERE cardinality(q.codes) > 0
        UNION
        SELECT q.id, 'exact_name', 4, mp.id
          FROM q JOIN master_products mp ON mp.normalized_name = q.name
    )
    SELECT id, method, rank, array_agg(master_id) AS masters
      FROM found GROUP BY id, method, rank
    """
)


def exact_matches(sides: list[VendorSide]) -> dict[uuid.UUID, tuple[str, uuid.UUID]]:
    """Product id -> (method, master id) for products one master matches exactly.

    Methods in order: ``gtin`` (another product with this GTIN is mapped), ``sku`` (the SKU is a
    master's model code), ``model_number`` (a model code from the product's model attribute is a
    master's), ``exact_name``. A key that points at two or more masters decides nothing.
    """
    if not sides:
        return {}
    rows = [
        {
            "id": str(s.id),
            "gtin": s.gtin,
            "sku": s.sku_code,
            "codes": s.attribute_codes,
            "name": s.normalized_name,
        }
        for s in sides
    ]
    best: dict[uuid.UUID, tuple[int, str, uuid.UUID]] = {}
    for row in db.session.execute(_EXACT, {"rows": json.dumps(rows)}):
        masters = set(row.masters)
        if len(masters) != 1:
            continue
        if row.id not in best or row.rank < best[row.id][0]:
            best[row.id] = (row.rank, row.method, masters.pop())
    return {pid: (method, master) for pid, (_, method, master) in best.items()}


_KEYED = sa.text(
    """
    SELECT q.id AS product_id, c.master_id, similarity(c.normalized_name, q.name) AS similarity
      FROM jsonb_to_recordset(CAST(:rows AS jsonb))
           AS q(id uuid, name text, codes varchar[], words text)
      CROSS JOIN LATERAL (
        (SELECT mp.id AS master_id, mp.normalized_name
           FROM master_products mp
          WHERE cardinality(q.codes) > 0 AND mp.model_codes && q.codes
          LIMIT :codes_limit)
        UNION
        (SELECT mp.id, mp.normalized_name
           FROM master_products mp
          WHERE q.words <> '' AND mp.search_vector @@ to_tsquery('simple', q.words)
          LIMIT :text_limit)
      ) AS c
    """
)
_TRIGRAM = sa.text(
    """
    SELECT q.id AS product_id, c.master_id, c.similarity
      FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS q(id uuid, name text)
      CROSS JOIN LATERAL (
        SELECT mp.id AS master_id, similarity(mp.normalized_name, q.name) AS similarity
          FROM master_products mp
         WHERE mp.normalized_name % q.name
         ORDER BY mp.normalized_name <-> q.name
         LIMIT :trigram_limit
      ) AS c
    """
)


BLOCKING_INDEXES = (
    "idx_master_products_name_trgm",
    "idx_master_products_model_codes",
    "idx_master_products_search",
)


def merge_pending_index_entries() -> None:
    """Fold the GIN indexes' pending lists into the indexes proper.

    GIN buffers new entries (``fastupdate``) in a list every scan reads linearly until VACUUM
    merges them; after a bulk of new masters (an import, a run's new masters) that list made each
    blocking lookup scan it whole, and the planner then preferred sequential scans (measured:
    445 ms a lookup on 20,000 fresh masters, 5 ms once merged). A run starts by merging them.
    """
    for name in BLOCKING_INDEXES:
        db.session.execute(
            sa.text("SELECT gin_clean_pending_list(CAST(:name AS regclass))"), {"name": name}
        )


def set_trigram_threshold(threshold: float = TRIGRAM_THRESHOLD) -> None:
    """For this transaction: the `%` operator (and so the GIN index) cuts at ``threshold``."""
    db.session.execute(
        sa.text("SELECT set_config('pg_trgm.similarity_threshold', :value, true)"),
        {"value": str(threshold)},
    )


def candidates(sides: list[VendorSide]) -> dict[uuid.UUID, dict[uuid.UUID, float]]:
    """Product id -> {candidate master id: trigram similarity of the names}.

    Three keys, each through its own index: names alike by trigrams (`%`, GIN trigram), a shared
    model code (`&&`, GIN array), and the name's longest words all in the master's text (`@@`,
    GIN tsvector). Masters a vendor already maps another of its products to are left out: a shop
    lists a product once, so its second listing is a different product (a colour, a size).
    """
    if not sides:
        return {}
    rows = [
        {"id": str(s.id), "name": s.normalized_name, "codes": s.model_codes, "words": s.words}
        for s in sides
    ]
    found: dict[uuid.UUID, dict[uuid.UUID, float]] = {s.id: {} for s in sides}
    keyed = {"rows": json.dumps(rows), "codes_limit": CODES_LIMIT, "text_limit": TEXT_LIMIT}
    for row in db.session.execute(_KEYED, keyed):
        found[row.product_id][row.master_id] = float(row.similarity or 0.0)
    # The trigram key costs the most (a long name has many common trigrams): only for products
    # the two cheap keys found few candidates for.
    few = [r for r in rows if len(found[uuid.UUID(r["id"])]) < TRIGRAM_WHEN_FEWER]
    if few:
        set_trigram_threshold()
        trigram = {"rows": json.dumps(few), "trigram_limit": TRIGRAM_LIMIT}
        for row in db.session.execute(_TRIGRAM, trigram):
            found[row.product_id][row.master_id] = float(row.similarity or 0.0)
    _drop_own_masters(sides, found)
    _drop_rejected(found)
    return found


def _drop_own_masters(sides, found) -> None:
    masters = {m for by_master in found.values() for m in by_master}
    if not masters:
        return
    taken = db.session.execute(
        sa.text(
            "SELECT DISTINCT vendor_id, master_product_id FROM vendor_product_mappings"
            " WHERE master_product_id = ANY(:masters) AND vendor_id = ANY(:vendors)"
        ),
        {"masters": list(masters), "vendors": list({s.vendor_id for s in sides})},
    )
    own: dict[uuid.UUID, set[uuid.UUID]] = {}
    for vendor_id, master_id in taken:
        own.setdefault(vendor_id, set()).add(master_id)
    for side in sides:
        for master_id in own.get(side.vendor_id, ()):
            found[side.id].pop(master_id, None)


def _drop_rejected(found) -> None:
    """A pair an admin rejected is not proposed again."""
    rejected = db.session.execute(
        sa.text(
            "SELECT vendor_product_id, master_product_id FROM match_proposals"
            " WHERE status = 'rejected' AND vendor_product_id = ANY(:ids)"
        ),
        {"ids": list(found)},
    )
    for product_id, master_id in rejected:
        found[product_id].pop(master_id, None)
