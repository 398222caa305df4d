"""What waits for review: the filtered queue of pending proposals, in order, and its counts.

The queue's order is the index's (``idx_match_proposals_queue``): most confident first, then id,
so "next" and "previous" are keyset steps from the proposal on screen, never an offset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from ...extensions import db
from ...vendors.models import Vendor
from ..matching.normalize import normalize
from ..models import MATCH_METHODS, MasterProduct, MatchProposal, Product, ProductCategory

# Confidence bands of the filter: key -> (label, lowest included, highest excluded).
BANDS: dict[str, tuple[str, Decimal, Decimal]] = {
    "high": ("0.90 and above", Decimal("0.90"), Decimal("1.0001")),
    "good": ("0.70 to 0.90", Decimal("0.70"), Decimal("0.90")),
    "fair": ("0.50 to 0.70", Decimal("0.50"), Decimal("0.70")),
    "low": ("below 0.50", Decimal("0"), Decimal("0.50")),
}
SEARCH_LIMIT = 10
MIN_SEARCH_LENGTH = 2


@dataclass(frozen=True)
class Filters:
    vendor_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    band: str | None = None
    method: str | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read the filter from a query string; an unknown or malformed value is no filter."""
        band = args.get("band") or None
        method = args.get("method") or None
        return cls(
            vendor_id=_uuid(args.get("vendor")),
            category_id=_uuid(args.get("category")),
            band=band if band in BANDS else None,
            method=method if method in MATCH_METHODS else None,
        )

    def params(self) -> dict[str, str]:
        """The filter as query-string arguments (only those set)."""
        values = {
            "vendor": self.vendor_id,
            "category": self.category_id,
            "band": self.band,
            "method": self.method,
        }
        return {key: str(value) for key, value in values.items() if value}


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def parse_confidence(value) -> Decimal | None:
    """A confidence typed by an admin (``0.85``), or None when it is not one in [0, 1]."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and 0 <= number <= 1 else None


def pending(filters: Filters, *, min_confidence: Decimal | None = None) -> sa.Select:
    """The pending proposals in the filter (a select of ``MatchProposal``), unordered."""
    query = sa.select(MatchProposal).where(MatchProposal.status == "pending")
    if filters.vendor_id:
        query = query.where(MatchProposal.vendor_id == filters.vendor_id)
    if filters.category_id:
        query = query.where(
            MatchProposal.vendor_product_id.in_(
                sa.select(Product.id).where(Product.category_id == filters.category_id)
            )
        )
    if filters.band:
        _, low, high = BANDS[filters.band]
        query = query.where(MatchProposal.confidence >= low, MatchProposal.confidence < high)
    if filters.method:
        query = query.where(MatchProposal.match_method == filters.method)
    if min_confidence is not None:
        query = query.where(MatchProposal.confidence >= min_confidence)
    return query


def _ordered(query: sa.Select, *, reverse: bool = False) -> sa.Select:
    if reverse:
        return query.order_by(MatchProposal.confidence.asc(), MatchProposal.id.desc())
    return query.order_by(MatchProposal.confidence.desc(), MatchProposal.id.asc())


def first(filters: Filters) -> MatchProposal | None:
    return db.session.scalar(_ordered(pending(filters)).limit(1))


def step(filters: Filters, current: MatchProposal, *, forward: bool = True) -> MatchProposal | None:
    """The pending proposal after (or before) ``current`` in the queue's order."""
    c, key = current.confidence, current.id
    if forward:
        beyond = sa.or_(
            MatchProposal.confidence < c,
            sa.and_(MatchProposal.confidence == c, MatchProposal.id > key),
        )
    else:
        beyond = sa.or_(
            MatchProposal.confidence > c,
            sa.and_(MatchProposal.confidence == c, MatchProposal.id < key),
        )
    query = _ordered(pending(filters).where(beyond), reverse=not forward)
    return db.session.scalar(query.limit(1))


def after_decision(filters: Filters, decided: MatchProposal) -> MatchProposal | None:
    """What to show once ``decided`` left the queue: the next one, else the one before it."""
    return step(filters, decided) or step(filters, decided, forward=False)


def count(filters: Filters, *, min_confidence: Decimal | None = None) -> int:
    query = pending(filters, min_confidence=min_confidence).with_only_columns(sa.func.count())
    return db.session.scalar(query.order_by(None))


@dataclass(frozen=True)
class Counts:
    waiting: int  # every pending proposal
    in_filter: int
    by_band: dict[str, int]  # within the filter's other conditions


def counts(filters: Filters) -> Counts:
    without_band = Filters(filters.vendor_id, filters.category_id, None, filters.method)
    by_band = {}
    query = pending(without_band).with_only_columns(
        *[
            sa.func.count()
            .filter(MatchProposal.confidence >= low, MatchProposal.confidence < high)
            .label(key)
            for key, (_, low, high) in BANDS.items()
        ],
        sa.func.count().label("all"),
    )
    row = db.session.execute(query.order_by(None)).one()
    by_band = {key: getattr(row, key) for key in BANDS}
    return Counts(
        waiting=count(Filters()),
        in_filter=by_band[filters.band] if filters.band else row.all,
        by_band=by_band,
    )


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The vendors, categories and methods that have something waiting (the filter's options)."""
    waiting = sa.select(MatchProposal).where(MatchProposal.status == "pending").subquery()
    vendors = db.session.execute(
        sa.select(Vendor.id, Vendor.name)
        .where(Vendor.id.in_(sa.select(waiting.c.vendor_id)))
        .order_by(Vendor.name)
    )
    categories = db.session.execute(
        sa.select(ProductCategory.id, ProductCategory.name)
        .where(
            ProductCategory.id.in_(
                sa.select(Product.category_id).where(
                    Product.id.in_(sa.select(waiting.c.vendor_product_id))
                )
            )
        )
        .order_by(ProductCategory.name)
    )
    methods = db.session.scalars(
        sa.select(waiting.c.match_method).distinct().order_by(waiting.c.match_method)
    )
    return {
        "vendors": [(str(key), name) for key, name in vendors],
        "categories": [(str(key), name) for key, name in categories],
        "methods": [(method, method.replace("_", " ")) for method in methods],
    }


def search_masters(text: str, *, exclude: uuid.UUID | None = None) -> list[MasterProduct]:
    """Masters whose name holds what was typed, closest first (trigram and full-text indexes)."""
    query_text = normalize(text or "").strip()
    if len(query_text) < MIN_SEARCH_LENGTH:
        return []
    words = [word for word in query_text.split() if word.isalnum()]
    conditions = [MasterProduct.normalized_name.ilike(f"%{_escape_like(query_text)}%")]
    if words:
        prefix_query = " & ".join(f"{word}:*" for word in words)
        conditions.append(
            MasterProduct.search_vector.op("@@")(sa.func.to_tsquery("simple", prefix_query))
        )
    query = (
        sa.select(MasterProduct)
        .where(sa.or_(*conditions))
        .order_by(
            sa.func.similarity(MasterProduct.normalized_name, query_text).desc(),
            MasterProduct.name,
        )
        .limit(SEARCH_LIMIT)
    )
    if exclude:
        query = query.where(MasterProduct.id != exclude)
    return list(db.session.scalars(query))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
