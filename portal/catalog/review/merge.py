"""Merging two master products that are one product: the merged one's mappings and proposals
move to the survivor, its slug answers with a redirect to the survivor (and so do the slugs that
redirected to it), it is deleted, and the survivor's aggregates are recomputed. The owners of the
shops whose products changed master are mailed. ``undo_merge`` puts it all back.

Flushes, never commits: the view owns the transaction (and the mails go out on its commit).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ...auth.models import User
from ...extensions import db
from ...mail import send_after_commit
from ...payouts.notices import owners
from .. import mapping
from ..models import (
    MasterProduct,
    MasterProductRedirect,
    MatchDecision,
    MatchProposal,
    Product,
    VendorProductMapping,
)
from . import snapshots
from .decisions import ReviewError, _record, master_or_error

# The master's own columns an undo recreates it from (aggregates are recomputed instead).
KEPT_COLUMNS = (
    "name",
    "normalized_name",
    "description",
    "category_id",
    "brand_id",
    "attributes",
    "slug",
    "meta_title",
    "meta_description",
    "model_codes",
    "match_text",
    "created_at",
)


def _locked(master_ids: list[uuid.UUID]) -> dict[uuid.UUID, MasterProduct]:
    rows = db.session.scalars(
        sa.select(MasterProduct)
        .where(MasterProduct.id.in_(master_ids))
        .order_by(MasterProduct.id)  # one lock order: two merges never deadlock
        .with_for_update()
    )
    return {row.id: row for row in rows}


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def merge(merged_id, survivor_id, admin: User, *, proposal_id=None) -> MatchDecision:
    merged_master = master_or_error(merged_id)
    survivor = master_or_error(survivor_id)
    if merged_master.id == survivor.id:
        raise ReviewError("A master cannot be merged into itself: pick another one.")
    locked = _locked([merged_master.id, survivor.id])
    if len(locked) != 2:
        raise ReviewError("One of the two masters was merged or removed meanwhile; search again.")
    snapshot = {
        "merged": snapshots.master_record(merged_master),
        "survivor": snapshots.master_record(survivor),
    }
    moved = [
        {
            "product_id": str(row.vendor_product_id),
            "vendor_id": str(row.vendor_id),
            "method": row.match_method,
            "confidence": None if row.match_confidence is None else str(row.match_confidence),
            "verified": row.verified,
        }
        for row in db.session.scalars(
            sa.select(VendorProductMapping).where(
                VendorProductMapping.master_product_id == merged_master.id
            )
        )
    ]
    for row in moved:
        mapping.map_product(
            db.session.get(Product, uuid.UUID(row["product_id"])),
            survivor,
            method=row["method"],
            confidence=row["confidence"],
            verified=row["verified"],
        )
    proposals = db.session.scalars(
        sa.update(MatchProposal)
        .where(MatchProposal.master_product_id == merged_master.id)
        .values(master_product_id=survivor.id)
        .returning(MatchProposal.id)
    ).all()
    repointed = db.session.scalars(
        sa.update(MasterProductRedirect)
        .where(MasterProductRedirect.master_product_id == merged_master.id)
        .values(master_product_id=survivor.id)
        .returning(MasterProductRedirect.slug)
    ).all()
    details = {
        "merged_id": str(merged_master.id),
        "merged_master": {key: _json(getattr(merged_master, key)) for key in KEPT_COLUMNS},
        "moved": moved,
        "proposals": [str(key) for key in proposals],
        "repointed": list(repointed),
    }
    slug = merged_master.slug
    # The proposals were moved by SQL: loaded ones must not keep pointing at the deleted master.
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, MatchProposal):
            db.session.expire(instance)
    db.session.delete(merged_master)
    db.session.flush()
    db.session.add(MasterProductRedirect(slug=slug, master_product_id=survivor.id))
    db.session.flush()
    _tell_vendors(moved, details["merged_master"]["name"], survivor, undone=False)
    proposal = db.session.get(MatchProposal, uuid.UUID(str(proposal_id))) if proposal_id else None
    return _record(
        "merge",
        admin,
        proposal,
        vendor_product_id=None,
        master_product_id=survivor.id,
        snapshot=snapshot,
        details=details,
    )


def undo_merge(decision: MatchDecision) -> None:
    details = decision.details or {}
    survivor = db.session.get(MasterProduct, decision.master_product_id)
    if survivor is None:
        raise ReviewError("The surviving master is gone (merged again?); the merge stays.")
    kept = dict(details["merged_master"])
    if db.session.scalar(sa.select(MasterProduct.id).where(MasterProduct.slug == kept["slug"])):
        raise ReviewError("The merged master's address is used by another master now.")
    kept["created_at"] = datetime.fromisoformat(kept["created_at"])
    for key in ("category_id", "brand_id"):
        kept[key] = uuid.UUID(kept[key]) if kept[key] else None
    db.session.execute(
        sa.delete(MasterProductRedirect).where(MasterProductRedirect.slug == kept["slug"])
    )
    restored = MasterProduct(id=uuid.UUID(details["merged_id"]), **kept)
    db.session.add(restored)
    db.session.flush()
    if details["repointed"]:
        db.session.execute(
            sa.update(MasterProductRedirect)
            .where(
                MasterProductRedirect.slug.in_(details["repointed"]),
                MasterProductRedirect.master_product_id == survivor.id,
            )
            .values(master_product_id=restored.id)
        )
    moved_back = []
    for row in details["moved"]:
        product = db.session.get(Product, uuid.UUID(row["product_id"]))
        current = mapping.mapping_of(product.id) if product else None
        if current is None or current.master_product_id != survivor.id:
            continue  # moved again since the merge: that later decision stands
        mapping.map_product(
            product,
            restored,
            method=row["method"],
            confidence=row["confidence"],
            verified=row["verified"],
        )
        moved_back.append(row)
    if details["proposals"]:
        db.session.execute(
            sa.update(MatchProposal)
            .where(
                MatchProposal.id.in_([uuid.UUID(key) for key in details["proposals"]]),
                MatchProposal.master_product_id == survivor.id,
            )
            .values(master_product_id=restored.id)
        )
    mapping.aggregates.recompute_masters({restored.id, survivor.id})
    db.session.expire_all()
    _tell_vendors(moved_back, survivor.name, restored, undone=True)


def _tell_vendors(moved: list[dict], old_name: str, new: MasterProduct, *, undone: bool) -> None:
    """Mail each shop's owner which of their products now belong to ``new``."""
    if not moved:
        return
    by_vendor: dict[uuid.UUID, list[str]] = defaultdict(list)
    for row in moved:
        product = db.session.get(Product, uuid.UUID(row["product_id"]))
        if product is not None:
            by_vendor[product.vendor_id].append(product.title)
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/products/{new.slug}"
    for vendor_id, owner in owners(list(by_vendor)).items():
        send_after_commit(
            owner.email,
            "catalog_master_merged",
            owner=owner,
            titles=sorted(by_vendor[vendor_id]),
            old_name=old_name,
            new_name=new.name,
            link=link,
            undone=undone,
        )
