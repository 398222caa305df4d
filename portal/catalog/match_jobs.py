"""The matcher's RQ job: a ``CatalogMatchRun`` over some products, one vendor's, or the catalog.

``start_match_run`` records the run and queues the job after the commit. The job matches its
products a batch at a time (``matching.pipeline.match_batch``), committing each batch together
with the run's counters, so the admin page's progress bar moves and a crash loses one batch at
most. A replayed or resumed job recomputes what is left: products already mapped, or waiting on
a proposal this run made, are not matched again, so a replay changes nothing it already did.
Batches never mix vendors: a vendor's products become masters before the next vendor's are
matched against them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..failures import failure_message
from ..queues import enqueue_after_commit
from .matching import blocking
from .matching.loading import active_matcher
from .matching.pipeline import BatchResult, Stages, match_batch
from .models import (
    MATCH_RUN_SCOPES,
    CatalogMatchRun,
    MatchProposal,
    Product,
    VendorProductMapping,
)

MATCH_JOB_TIMEOUT = 60 * 60
RECENT_RUNS = 10


class MatchRunError(ValueError):
    pass


def _targets(
    scope: str,
    vendor_id: uuid.UUID | None,
    product_ids: Sequence[uuid.UUID] | None,
    run_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(vendor id, product id) of the products the run still has to match, in batch order.

    Active and unmapped; a product waiting on a proposal is left to its review, except when it
    was named (a changed product is matched afresh) and the proposal is not this run's own.
    """
    mapped = sa.select(VendorProductMapping.id).where(
        VendorProductMapping.vendor_product_id == Product.id
    )
    pending = sa.select(MatchProposal.id).where(
        MatchProposal.vendor_product_id == Product.id, MatchProposal.status == "pending"
    )
    query = sa.select(Product.vendor_id, Product.id).where(
        Product.status == "active", ~mapped.exists()
    )
    if scope == "products":
        query = query.where(Product.id.in_(list(product_ids or [])))
        if run_id is not None:
            query = query.where(~pending.where(MatchProposal.run_id == run_id).exists())
    else:
        query = query.where(~pending.exists())
    if scope == "vendor":
        query = query.where(Product.vendor_id == vendor_id)
    return [tuple(row) for row in db.session.execute(query.order_by(Product.vendor_id, Product.id))]


def start_match_run(
    scope: str,
    *,
    vendor_id: uuid.UUID | None = None,
    product_ids: Sequence[uuid.UUID] | None = None,
    requested_by=None,
) -> CatalogMatchRun | None:
    """Record a run and queue its job after the commit; None when there is nothing to match.

    A whole-catalog run already queued or running is returned instead of a second one.
    """
    if scope not in MATCH_RUN_SCOPES:
        raise MatchRunError(f"unknown scope {scope!r}")
    if scope == "vendor" and vendor_id is None:
        raise MatchRunError("a vendor run needs the vendor")
    if scope == "catalog":
        active = db.session.scalar(
            sa.select(CatalogMatchRun).where(
                CatalogMatchRun.scope == "catalog",
                CatalogMatchRun.status.in_(("queued", "running")),
            )
        )
        if active is not None:
            return active
    ids = [uuid.UUID(str(i)) for i in product_ids or []]
    targets = _targets(scope, vendor_id, ids)
    if scope != "catalog" and not targets:
        return None
    run = CatalogMatchRun(
        scope=scope,
        vendor_id=vendor_id,
        requested_by_id=getattr(requested_by, "id", None),
        status="queued",
        total=len(targets),
    )
    db.session.add(run)
    db.session.flush()
    run.job_id = f"catalog-match-{run.id}"
    enqueue_after_commit(
        run_catalog_match,
        str(run.id),
        [str(i) for i in ids] if scope == "products" else None,
        job_id=run.job_id,
        job_timeout=MATCH_JOB_TIMEOUT,
        description=f"catalog match ({scope})",
    )
    return run


def _batches(targets: list[tuple[uuid.UUID, uuid.UUID]], size: int) -> Iterator[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    vendor = None
    for vendor_id, product_id in targets:
        if batch and (vendor_id != vendor or len(batch) >= size):
            yield batch
            batch = []
        vendor = vendor_id
        batch.append(product_id)
    if batch:
        yield batch


def _count(run: CatalogMatchRun, result: BatchResult) -> None:
    run.processed += result.processed
    run.exact_matched += result.exact
    run.auto_mapped += result.auto
    run.proposed += result.proposed
    run.new_masters += result.new_masters


def run_catalog_match(
    run_id: str, product_ids: list[str] | None = None, stages: Stages | None = None
) -> dict:
    """The job: match the run's remaining products a batch at a time, one commit per batch."""
    run = db.session.get(CatalogMatchRun, uuid.UUID(str(run_id)))
    if run is None:
        return {"status": "missing"}
    if run.status == "done":
        return summary(run)
    matcher = active_matcher()
    run.status = "running"
    run.started_at = run.started_at or utcnow()
    run.finished_at = run.error = None
    run.notice = matcher.notice
    ids = [uuid.UUID(i) for i in product_ids or []]
    targets = _targets(run.scope, run.vendor_id, ids, run.id)
    # A resumed run keeps what its committed batches counted and does the rest.
    run.total = run.processed + len(targets)
    blocking.merge_pending_index_entries()
    db.session.commit()
    try:
        for batch in _batches(targets, current_app.config["CATALOG_MATCH_BATCH"]):
            _count(run, match_batch(batch, matcher, run.id, stages))
            db.session.commit()
        run.status = "done"
        run.finished_at = utcnow()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        run = db.session.get(CatalogMatchRun, uuid.UUID(str(run_id)))
        run.status = "failed"
        run.error = failure_message(error, f"catalog match {run_id}")
        run.finished_at = utcnow()
        db.session.commit()
        raise
    return summary(run)


def match_now(
    scope: str, *, vendor_id: uuid.UUID | None = None, requested_by=None
) -> CatalogMatchRun:
    """A run done here and now, in the caller's transaction (the demo seed): the same batches as
    the job, flushed, not committed, and no job queued."""
    matcher = active_matcher()
    targets = _targets(scope, vendor_id, None)
    run = CatalogMatchRun(
        scope=scope,
        vendor_id=vendor_id,
        requested_by_id=getattr(requested_by, "id", None),
        status="running",
        total=len(targets),
        notice=matcher.notice,
        started_at=utcnow(),
    )
    db.session.add(run)
    db.session.flush()
    for batch in _batches(targets, current_app.config["CATALOG_MATCH_BATCH"]):
        _count(run, match_batch(batch, matcher, run.id))
    run.status, run.finished_at = "done", utcnow()
    db.session.flush()
    return run


def summary(run: CatalogMatchRun) -> dict:
    return {
        "status": run.status,
        "total": run.total,
        "processed": run.processed,
        "exact": run.exact_matched,
        "auto": run.auto_mapped,
        "proposed": run.proposed,
        "new_masters": run.new_masters,
    }


def recent_runs(limit: int = RECENT_RUNS) -> list[CatalogMatchRun]:
    return list(
        db.session.scalars(
            sa.select(CatalogMatchRun).order_by(CatalogMatchRun.created_at.desc()).limit(limit)
        )
    )


def catalog_counts() -> dict[str, int]:
    """What the matcher has left in the catalog: auto-mapped (unverified), waiting, new masters."""
    mapped = db.session.execute(
        sa.select(
            sa.func.count().filter(
                VendorProductMapping.match_method == "model", ~VendorProductMapping.verified
            ),
            sa.func.count().filter(
                VendorProductMapping.match_method.in_(("gtin", "sku", "model_number", "exact_name"))
            ),
            sa.func.count().filter(VendorProductMapping.match_method == "new_master"),
        )
    ).one()
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(MatchProposal)
        .where(MatchProposal.status == "pending")
    )
    return {"auto": mapped[0], "exact": mapped[1], "new_masters": mapped[2], "waiting": waiting}
