"""Review decisions on match proposals: approve, reject (then a new master), remap (another
master), bulk approve and undo. Every decision is a ``MatchDecision`` row: who, when, what, the
pair's label and both records as the admin saw them (``snapshot``), and in ``details`` what an
undo needs to put back.

Two admins may open the same proposal: the decision locks the proposal's row and checks it is
still pending, so the second one is told who decided it, and nothing is done twice.
Functions flush, never commit: the view owns the transaction.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ...auth.models import User
from ...clock import utcnow
from ...extensions import db
from .. import mapping
from ..models import MasterProduct, MatchDecision, MatchProposal, Product, VendorProductMapping
from . import queue, snapshots

# The decision kinds an admin can undo, with the proposal status each one set.
PAIR_DECISIONS = {
    "approve": "approved",
    "bulk_approve": "approved",
    "reject": "rejected",
    "remap": "rejected",
}
STATUS_WORDS = {
    "approved": "approved",
    "rejected": "rejected",
    "superseded": "settled already (the product was mapped meanwhile)",
}


class ReviewError(ValueError):
    """A decision that cannot be made, in words for the admin."""


class AlreadyDecided(ReviewError):
    pass


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise ReviewError("That is not a proposal or master of the catalog.") from error


def _locked_pending(proposal_id) -> MatchProposal:
    """The proposal, row-locked, if it still waits; otherwise say who settled it."""
    proposal = db.session.scalar(
        sa.select(MatchProposal)
        .where(MatchProposal.id == _uuid(proposal_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if proposal is None:
        raise ReviewError("That proposal no longer exists; it may have been merged away.")
    if proposal.status != "pending":
        who = db.session.get(User, proposal.decided_by_id) if proposal.decided_by_id else None
        by = f" by {who.email}" if who else ""
        raise AlreadyDecided(
            f"This proposal was {STATUS_WORDS[proposal.status]}{by}; nothing was changed."
        )
    return proposal


def master_or_error(master_id) -> MasterProduct:
    master = db.session.get(MasterProduct, _uuid(master_id)) if master_id else None
    if master is None:
        raise ReviewError("That master product does not exist (any more); search again.")
    return master


def _mapping_state(product_id: uuid.UUID) -> dict[str, Any] | None:
    row = mapping.mapping_of(product_id)
    if row is None:
        return None
    return {
        "master_id": str(row.master_product_id),
        "method": row.match_method,
        "confidence": None if row.match_confidence is None else str(row.match_confidence),
        "verified": row.verified,
    }


def _settle(proposal: MatchProposal, status: str, admin: User) -> None:
    # Set before mapping: map_product supersedes the product's *pending* proposal.
    proposal.status = status
    proposal.decided_by_id = admin.id
    proposal.decided_at = utcnow()
    db.session.flush()


def _record(kind: str, admin: User, proposal: MatchProposal | None, **fields) -> MatchDecision:
    values = {
        "proposal_id": proposal.id if proposal else None,
        "vendor_product_id": proposal.vendor_product_id if proposal else None,
        "master_product_id": proposal.master_product_id if proposal else None,
        "created_at": utcnow(),
    }
    decision = MatchDecision(kind=kind, admin_id=admin.id, **(values | fields))
    db.session.add(decision)
    db.session.flush()
    return decision


def _approve(proposal: MatchProposal, admin: User, kind: str, batch: str | None = None):
    product = proposal.product
    master = proposal.master_product
    snapshot = snapshots.pair(product, master)  # before mapping: the master's figures as seen
    before = _mapping_state(product.id)
    _settle(proposal, "approved", admin)
    mapping.map_product(
        product,
        master,
        method=proposal.match_method,
        confidence=proposal.confidence,
        verified=True,
    )
    details: dict[str, Any] = {"before": before, "after": {"master_id": str(master.id)}}
    if batch:
        details["batch"] = batch
    return _record(kind, admin, proposal, label=1, snapshot=snapshot, details=details)


def approve(proposal_id, admin: User) -> MatchDecision:
    """The proposed pair is the same product: map it, verified, by the proposal's method."""
    return _approve(_locked_pending(proposal_id), admin, "approve")


def reject(proposal_id, admin: User) -> MatchDecision:
    """Not the same product, and no master is: a new master made from the product."""
    proposal = _locked_pending(proposal_id)
    product = proposal.product
    snapshot = snapshots.pair(product, proposal.master_product)
    before = _mapping_state(product.id)
    _settle(proposal, "rejected", admin)
    created = mapping.create_master_from_product(product)
    mapping.map_product(product, created, method="new_master", verified=True)
    details = {
        "before": before,
        "after": {"master_id": str(created.id)},
        "then": "new_master",
        "created_master_id": str(created.id),
    }
    return _record("reject", admin, proposal, label=0, snapshot=snapshot, details=details)


def remap(proposal_id, master_id, admin: User) -> MatchDecision:
    """Not the proposed master but another one the admin picked: a verified manual mapping."""
    proposal = _locked_pending(proposal_id)
    chosen = master_or_error(master_id)
    if chosen.id == proposal.master_product_id:
        raise ReviewError("That is the proposed master itself: approve it instead.")
    product = proposal.product
    snapshot = snapshots.pair(product, proposal.master_product, chosen)
    before = _mapping_state(product.id)
    _settle(proposal, "rejected", admin)
    mapping.map_product(product, chosen, method="manual", verified=True)
    details = {"before": before, "after": {"master_id": str(chosen.id)}, "then": "remap"}
    return _record("remap", admin, proposal, label=0, snapshot=snapshot, details=details)


def bulk_preview(filters: queue.Filters, min_confidence: Decimal) -> int:
    return queue.count(filters, min_confidence=min_confidence)


def bulk_approve(
    filters: queue.Filters, min_confidence: Decimal, expected: int, admin: User, *, limit: int
) -> int:
    """Approve the pending proposals in the filter at or above ``min_confidence``, the ``limit``
    most confident of them; returns how many.

    ``expected`` is the preview's count: if the queue changed since, nothing is approved and the
    admin previews again, so what is approved is what the preview said.
    """
    matching = queue.count(filters, min_confidence=min_confidence)
    if matching != expected:
        raise ReviewError(
            f"{matching} proposals match now, not the {expected} previewed; nothing was"
            " approved. Preview again."
        )
    if not matching:
        raise ReviewError("No proposal matches; nothing was approved.")
    query = (
        queue.pending(filters, min_confidence=min_confidence)
        .order_by(MatchProposal.confidence.desc(), MatchProposal.id)
        .limit(limit)
        .with_for_update()
    )
    # Locked rows another admin settled meanwhile no longer match ``pending``: never approved twice.
    proposals = list(db.session.scalars(query.execution_options(populate_existing=True)))
    batch = str(uuid.uuid4())
    for proposal in proposals:
        _approve(proposal, admin, "bulk_approve", batch)
    return len(proposals)


# --- undo ---------------------------------------------------------------------------------


def last_decision(admin: User) -> MatchDecision | None:
    """The admin's latest decision not undone yet (an undo is not itself undone)."""
    return db.session.scalar(
        sa.select(MatchDecision)
        .where(
            MatchDecision.admin_id == admin.id,
            MatchDecision.kind != "undo",
            MatchDecision.undone_at.is_(None),
        )
        .order_by(MatchDecision.created_at.desc(), MatchDecision.id.desc())
        .limit(1)
    )


def undo_last(admin: User) -> MatchDecision:
    """Put back what the admin's last decision changed; returns the decision undone."""
    latest = last_decision(admin)
    if latest is None:
        raise ReviewError("You have no decision left to undo.")
    group = [latest]
    batch = (latest.details or {}).get("batch")
    if batch:
        group = list(
            db.session.scalars(
                sa.select(MatchDecision).where(
                    MatchDecision.admin_id == admin.id,
                    MatchDecision.undone_at.is_(None),
                    MatchDecision.details["batch"].astext == batch,
                )
            )
        )
    locked = list(
        db.session.scalars(
            sa.select(MatchDecision)
            .where(MatchDecision.id.in_([d.id for d in group]), MatchDecision.undone_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if len(locked) != len(group):
        raise AlreadyDecided("That decision was undone already.")
    for decision in locked:
        if decision.kind == "merge":
            from .merge import undo_merge

            undo_merge(decision)
        else:
            _undo_pair(decision)
        decision.undone_at = utcnow()
    _record(
        "undo",
        admin,
        None,
        undo_of_id=latest.id,
        vendor_product_id=latest.vendor_product_id,
        master_product_id=latest.master_product_id,
        details={"undone": [str(d.id) for d in locked]},
    )
    return latest


def _undo_pair(decision: MatchDecision) -> None:
    details = decision.details or {}
    product = (
        db.session.get(Product, decision.vendor_product_id) if decision.vendor_product_id else None
    )
    if product is None:
        raise ReviewError("The product of that decision is gone; it cannot be undone.")
    current = _mapping_state(product.id)
    made = details.get("after", {}).get("master_id")
    if current is None or current["master_id"] != made:
        raise ReviewError(
            "The product has been mapped elsewhere since that decision; it cannot be undone."
        )
    before = details.get("before")
    if before is None:
        mapping.unmap_product(product)
    else:
        mapping.map_product(
            product,
            master_or_error(before["master_id"]),
            method=before["method"],
            confidence=before["confidence"] and Decimal(before["confidence"]),
            verified=before["verified"],
        )
    created = details.get("created_master_id")
    if created:
        _drop_master_if_unused(uuid.UUID(created))
    _reopen(decision)


def _reopen(decision: MatchDecision) -> None:
    """The proposal waits again, unless another one for the product waits now."""
    proposal = (
        db.session.get(MatchProposal, decision.proposal_id, with_for_update=True)
        if decision.proposal_id
        else None
    )
    if proposal is None or proposal.status != PAIR_DECISIONS.get(decision.kind):
        return
    other = db.session.scalar(
        sa.select(MatchProposal.id).where(
            MatchProposal.vendor_product_id == proposal.vendor_product_id,
            MatchProposal.status == "pending",
        )
    )
    if other is None:
        proposal.status = "pending"
        proposal.decided_by_id = None
        proposal.decided_at = None
        db.session.flush()


def _drop_master_if_unused(master_id: uuid.UUID) -> None:
    """Delete a master a reject created, if nothing maps, proposes or redirects to it since."""
    from ..models import MasterProductRedirect

    used = db.session.scalar(
        sa.select(
            sa.exists().where(VendorProductMapping.master_product_id == master_id)
            | sa.exists().where(MatchProposal.master_product_id == master_id)
            | sa.exists().where(MasterProductRedirect.master_product_id == master_id)
        )
    )
    master = db.session.get(MasterProduct, master_id)
    if master is not None and not used:
        db.session.delete(master)
        db.session.flush()
