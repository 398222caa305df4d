"""The vendor's catalog page: each of their products, the master it maps to, and its status.

The status is one SQL expression (:func:`status_expression`), so the column, the filter and the
counts per status read the same rule:

- ``own``: mapped with ``match_method = 'new_master'`` (the master was created from this product);
- ``verified``: mapped and verified by an admin, or mapped by hand (``manual``: a person chose it);
- ``auto``: mapped by the matcher, not reviewed (``verified = false``);
- ``waiting``: not mapped, a proposal waits for review (the product stays unmapped meanwhile);
- ``unmatched``: neither yet.

A page is one statement: the shop's active products with their status (the ``unique_vendor_product``
and ``unique_pending_proposal_per_product`` indexes serve the joins), the counts per status over
them, and the page's rows with their master and open remap request joined, for that page only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..pagination import Paged, clamp_page
from .models import MasterProduct, MatchProposal, Product, RemapRequest, VendorProductMapping

PER_PAGE = 25
# Above any real last page (25 million products); a larger number in a link is not sent to SQL.
MAX_PAGE = 1_000_000
STATUSES = {
    "auto": "Matched automatically",
    "verified": "Verified",
    "waiting": "Waiting for review",
    "own": "Own master",
    "unmatched": "Not matched yet",
}
STATUS_TONES = {
    "auto": "info",
    "verified": "success",
    "waiting": "warning",
    "own": "neutral",
    "unmatched": "neutral",
}


def status_expression(mapping, proposal) -> sa.ColumnElement[str]:
    """The catalog status of a product row outer-joined to its mapping and pending proposal."""
    return sa.case(
        (mapping.match_method == "new_master", "own"),
        (sa.or_(mapping.verified.is_(True), mapping.match_method == "manual"), "verified"),
        (mapping.id.is_not(None), "auto"),
        (proposal.id.is_not(None), "waiting"),
        else_="unmatched",
    )


@dataclass(frozen=True)
class CatalogRow:
    product_id: uuid.UUID
    title: str
    sku: str | None
    status: str
    confidence: Decimal | None
    method: str | None
    master_name: str | None
    master_slug: str | None
    remap_request_id: uuid.UUID | None

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def status_tone(self) -> str:
        return STATUS_TONES[self.status]


@dataclass(frozen=True)
class CatalogPage(Paged):
    rows: list[CatalogRow]
    counts: dict[str, int]  # per status, and "all", over the search
    status: str
    q: str
    page: int
    per_page: int
    total_rows: int

    def params(self, **changes) -> dict:
        values = {"status": self.status, "q": self.q} | changes
        return {k: v for k, v in values.items() if v}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def _statement(
    vendor_id: uuid.UUID,
    status: str,
    q: str,
    page: int,
    per_page: int,
    product_id: uuid.UUID | None = None,
):
    mapping = sa.orm.aliased(VendorProductMapping)
    proposal = sa.orm.aliased(MatchProposal)
    status_column = status_expression(mapping, proposal)
    listed = (
        sa.select(
            Product.id.label("product_id"),
            Product.title,
            Product.sku,
            status_column.label("status"),
            sa.func.coalesce(mapping.match_confidence, proposal.confidence).label("confidence"),
            sa.func.coalesce(mapping.match_method, proposal.match_method).label("method"),
            sa.func.coalesce(mapping.master_product_id, proposal.master_product_id).label(
                "master_id"
            ),
        )
        .select_from(Product)
        .outerjoin(
            mapping,
            sa.and_(mapping.vendor_id == vendor_id, mapping.vendor_product_id == Product.id),
        )
        .outerjoin(
            proposal,
            sa.and_(
                # Only while unmapped: mapping a product supersedes its proposal anyway.
                mapping.id.is_(None),
                # The shop's key first, so ``idx_match_proposals_vendor`` finds its proposals.
                proposal.vendor_id == vendor_id,
                proposal.vendor_product_id == Product.id,
                proposal.status == "pending",
            ),
        )
        .where(Product.vendor_id == vendor_id, Product.status == "active")
    )
    if product_id is not None:
        listed = listed.where(Product.id == product_id)
    if q:
        pattern = _like(q)
        listed = listed.where(sa.or_(Product.title.ilike(pattern), Product.sku.ilike(pattern)))
    rows = listed.cte("listed")
    counts = sa.select(
        sa.func.count().label("all"),
        *(sa.func.count().filter(rows.c.status == key).label(key) for key in STATUSES),
    ).cte("counts")
    chosen = sa.select(rows)
    if status:
        chosen = chosen.where(rows.c.status == status)
    chosen = (
        chosen.order_by(rows.c.title, rows.c.product_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery("chosen")
    )
    remap = sa.orm.aliased(RemapRequest)
    # Counts and rows together: an empty page still brings its counts (the outer join on true).
    return (
        sa.select(
            counts,
            chosen.c.product_id,
            chosen.c.title,
            chosen.c.sku,
            chosen.c.status,
            chosen.c.confidence,
            chosen.c.method,
            MasterProduct.name.label("master_name"),
            MasterProduct.slug.label("master_slug"),
            remap.id.label("remap_request_id"),
        )
        .select_from(counts)
        .outerjoin(chosen, sa.true())
        .outerjoin(MasterProduct, MasterProduct.id == chosen.c.master_id)
        .outerjoin(remap, sa.and_(remap.product_id == chosen.c.product_id, remap.status == "open"))
        .order_by(chosen.c.title, chosen.c.product_id)
    )


def _row(r) -> CatalogRow:
    return CatalogRow(
        r.product_id,
        r.title,
        r.sku,
        r.status,
        r.confidence,
        r.method,
        r.master_name,
        r.master_slug,
        r.remap_request_id,
    )


def catalog_page(
    vendor_id: uuid.UUID,
    *,
    status: str = "",
    q: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> CatalogPage:
    """One page of the shop's active products with their catalog status, by title."""
    status = status if status in STATUSES else ""
    q = q.strip()[:200]
    page = max(1, min(page, MAX_PAGE))
    result = db.session.execute(_statement(vendor_id, status, q, page, per_page)).all()
    counts = {key: getattr(result[0], key) for key in ("all", *STATUSES)}
    total = counts[status or "all"]
    clamped = clamp_page(page, total, per_page)
    if clamped != page:  # a stale link past the end: the last page instead
        return catalog_page(vendor_id, status=status, q=q, page=clamped, per_page=per_page)
    rows = [_row(r) for r in result if r.product_id is not None]
    return CatalogPage(rows, counts, status, q, page, per_page, total)


def catalog_row(vendor_id: uuid.UUID, product_id: uuid.UUID) -> CatalogRow | None:
    """One product's row, as the page shows it (for the row an HTMX answer swaps in)."""
    statement = _statement(vendor_id, "", "", 1, 1, product_id=product_id)
    row = db.session.execute(statement).first()
    return _row(row) if row is not None and row.product_id is not None else None
