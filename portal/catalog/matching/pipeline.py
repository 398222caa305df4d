"""Matching a batch of vendor products: exact matches, blocking, scoring, then the three bands.

For each unmapped active product of the batch: an exact match (``blocking.exact_matches``) maps
it at once; otherwise its candidate masters (``blocking.candidates``) are scored by the trained
model, with a ``PairFeaturizer`` fitted on the batch and its candidates, and the best candidate's
calibrated probability decides: at or above the auto-map threshold it is mapped
(``verified=False``), between the thresholds it waits as a ``MatchProposal``, below the
new-master threshold the product becomes a master of its own. With no model, the best candidate
by trigram similarity waits for review and nothing else is decided.

Everything goes through ``catalog.mapping``; this module flushes, the job commits per batch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import sqlalchemy as sa

from ...extensions import db
from .. import mapping
from ..models import (
    Brand,
    MasterProduct,
    MatchProposal,
    Product,
    ProductCategory,
    VendorProductMapping,
)
from . import blocking
from .columns import Record
from .features import PairFeaturizer
from .loading import ActiveMatcher
from .reasons import explain, fallback_reason

EXACT_CONFIDENCE = Decimal("1.00")


@dataclass
class BatchResult:
    processed: int = 0
    exact: int = 0
    auto: int = 0
    proposed: int = 0
    new_masters: int = 0
    unmatched: int = 0

    def add(self, other: BatchResult) -> None:
        for key in vars(self):
            setattr(self, key, getattr(self, key) + getattr(other, key))


def _model_values(attributes) -> str:
    return " ".join(blocking.model_values(attributes))


def unmapped_products(product_ids: Sequence[uuid.UUID]) -> list[Product]:
    """The batch's products that are active and still unmapped, in a stable order."""
    mapped = sa.select(VendorProductMapping.vendor_product_id).where(
        VendorProductMapping.vendor_product_id == Product.id
    )
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.id.in_(product_ids), Product.status == "active", ~mapped.exists())
            .order_by(Product.vendor_id, Product.id)
        )
    )


def _names(model, ids) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, model.name).where(model.id.in_(ids))).all())


def _product_records(products: list[Product]):
    brands = _names(Brand, [p.brand_id for p in products])
    categories = _names(ProductCategory, [p.category_id for p in products])
    records, sides = {}, []
    for p in products:
        brand = brands.get(p.brand_id, "")
        records[str(p.id)] = Record(
            id=str(p.id),
            name=p.title,
            description=p.description or "",
            brand=brand,
            modelno=_model_values(p.attributes),
            category=categories.get(p.category_id, ""),
            price=float(p.price) if p.price else None,
        )
        sides.append(blocking.vendor_side(p, brand or None))
    return records, sides


def _master_records(master_ids) -> dict[str, Record]:
    if not master_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            MasterProduct.id,
            MasterProduct.name,
            MasterProduct.description,
            MasterProduct.attributes,
            MasterProduct.lowest_price,
            Brand.name.label("brand"),
            ProductCategory.name.label("category"),
        )
        .outerjoin(Brand, Brand.id == MasterProduct.brand_id)
        .outerjoin(ProductCategory, ProductCategory.id == MasterProduct.category_id)
        .where(MasterProduct.id.in_(list(master_ids)))
    )
    return {
        str(r.id): Record(
            id=str(r.id),
            name=r.name,
            description=r.description or "",
            brand=r.brand or "",
            modelno=_model_values(r.attributes),
            category=r.category or "",
            price=float(r.lowest_price) if r.lowest_price else None,
        )
        for r in rows
    }


@dataclass
class Scored:
    master_id: uuid.UUID | None
    probability: float
    reasons: list[dict]


def score_candidates(
    matcher: ActiveMatcher,
    records: dict[str, Record],
    found: dict[uuid.UUID, dict[uuid.UUID, float]],
) -> dict[uuid.UUID, Scored]:
    """Each product's best candidate by the model's calibrated probability (None: no candidate)."""
    masters = _master_records({m for by_master in found.values() for m in by_master})
    pairs = [(str(pid), str(mid)) for pid, by_master in found.items() for mid in by_master]
    best: dict[uuid.UUID, Scored] = {pid: Scored(None, 0.0, []) for pid in found}
    if not pairs:
        return best
    featurizer = PairFeaturizer().fit({k: records[k] for k in map(str, found)}, masters)
    features, names = featurizer.transform(pairs)
    probabilities = matcher.model.predict_proba(features, names)
    winner: dict[uuid.UUID, int] = {}
    for n, (pid, _) in enumerate(pairs):
        key = uuid.UUID(pid)
        if key not in winner or probabilities[n] > probabilities[winner[key]]:
            winner[key] = n
    for key, n in winner.items():
        pid, mid = pairs[n]
        row = dict(zip(names, features[n].tolist(), strict=True))
        best[key] = Scored(
            uuid.UUID(mid),
            float(np.clip(probabilities[n], 0.0, 1.0)),
            explain(row, featurizer.left[pid], featurizer.right[mid]),
        )
    return best


def propose(
    product: Product,
    master_id: uuid.UUID,
    *,
    confidence: float,
    method: str,
    reasons: list[dict],
    run_id: uuid.UUID | None,
) -> MatchProposal:
    """The product's pending proposal for ``master_id``: updated if it is the same pair (a run
    replayed), else the old one superseded and a new one made."""
    pending = db.session.scalar(
        sa.select(MatchProposal).where(
            MatchProposal.vendor_product_id == product.id, MatchProposal.status == "pending"
        )
    )
    value = Decimal(str(confidence)).quantize(Decimal("0.0001"))
    if pending is not None and pending.master_product_id == master_id:
        pending.confidence, pending.match_method = value, method
        pending.reasons, pending.run_id = reasons, run_id or pending.run_id
        db.session.flush()
        return pending
    if pending is not None:
        pending.status = "superseded"
        db.session.flush()
    proposal = MatchProposal(
        vendor_id=product.vendor_id,
        vendor_product_id=product.id,
        master_product_id=master_id,
        confidence=value,
        match_method=method,
        reasons=reasons,
        run_id=run_id,
    )
    db.session.add(proposal)
    db.session.flush()
    return proposal


class Stages:
    """Seconds spent per stage, summed over batches (the benchmark reports them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._start
        self._start = now


def match_batch(
    product_ids: Sequence[uuid.UUID],
    matcher: ActiveMatcher,
    run_id: uuid.UUID | None = None,
    stages: Stages | None = None,
) -> BatchResult:
    """Match these products (the unmapped active ones among them); flushes, never commits."""
    stages = stages or Stages()
    stages.lap("commits and between batches")
    result = BatchResult()
    products = unmapped_products(product_ids)
    result.processed = len(product_ids)
    result.unmatched = len(product_ids) - len(products)
    if not products:
        return result
    by_id = {p.id: p for p in products}
    records, sides = _product_records(products)
    stages.lap("load and vendor fields")
    for product_id, (method, master_id) in blocking.exact_matches(sides).items():
        mapping.map_product(
            by_id.pop(product_id),
            db.session.get(MasterProduct, master_id),
            method=method,
            confidence=EXACT_CONFIDENCE,
        )
        result.exact += 1
    stages.lap("exact matches")
    sides = [s for s in sides if s.id in by_id]
    found = blocking.candidates(sides)
    stages.lap("blocking")
    if matcher.model is None:
        for product_id, by_master in found.items():
            if not by_master:
                result.unmatched += 1
                continue
            master_id, similarity = max(by_master.items(), key=lambda item: item[1])
            propose(
                by_id[product_id],
                master_id,
                confidence=min(similarity, 1.0),
                method="fuzzy",
                reasons=fallback_reason(similarity),
                run_id=run_id,
            )
            result.proposed += 1
        return result
    thresholds = matcher.thresholds
    best = score_candidates(matcher, records, found)
    stages.lap("features and scoring")
    for product_id, scored in best.items():
        product = by_id[product_id]
        band = "new_master" if scored.master_id is None else thresholds.band(scored.probability)
        if band == "auto":
            master = db.session.get(MasterProduct, scored.master_id)
            mapping.map_product(product, master, method="model", confidence=scored.probability)
            result.auto += 1
        elif band == "review":
            propose(
                product,
                scored.master_id,
                confidence=scored.probability,
                method="model",
                reasons=scored.reasons,
                run_id=run_id,
            )
            result.proposed += 1
        else:
            master = mapping.create_master_from_product(product)
            mapping.map_product(product, master, method="new_master")
            result.new_masters += 1
    stages.lap("writing mappings, proposals, masters")
    return result
