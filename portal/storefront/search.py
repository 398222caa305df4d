"""Searching and browsing the unified catalog: what the storefront lists, in which order.

Only masters some shop offers now (``vendor_count > 0``) are listed. Words are matched with
PostgreSQL full-text search over ``master_products.storefront_vector`` (``'simple'``, weighted:
name A, then brand, model attributes and description C; the compact model codes unweighted);
every word must match, the last one as a prefix (the customer may still be typing it), or a model
number typed must be one of the master's. When nothing matches, the names are searched by
trigram word similarity instead (a typo), and the page says so. Relevance is ``ts_rank``
(normalised by the text's length) plus fixed bonuses for a name equal to the search, a model
number typed, and a name starting with the words. The whole design: docs/storefront.md.

A result list goes at most ``max_results`` deep (the pager says "1,000+"), and at most that many
matches are ranked (plus the exact-name and model-number ones): a page then costs about the same
for a rare word as for one in a fifth of the catalog, and at any depth. Category and brand counts
are given when the result has at most ``max_results`` masters; above it the filters list every
category and brand.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY
from werkzeug.datastructures import MultiDict

from ..catalog.matching.normalize import codes, normalize
from ..catalog.models import Brand, MasterProduct, ProductCategory
from ..extensions import db
from ..pagination import Paged, page_count

#: Longer searches are cut here (nobody types more; a pasted essay must not reach the database).
MAX_QUERY_LENGTH = 100
#: At most this many words of a search are matched.
MAX_WORDS = 8
#: Trigram word similarity a name needs to be shown as a close match, and how many are shown.
SIMILARITY_THRESHOLD = 0.5
CLOSE_MATCHES = 200
# Bonuses on top of ts_rank (which stays below 1 with normalisation 1): an exact name always comes
# first, a typed model number next, then names that start with the words.
EXACT_NAME_BONUS = 4
MODEL_NUMBER_BONUS = 2
NAME_PREFIX_BONUS = 1

_WORD = re.compile(r"[a-z0-9]+")

#: sort key -> label. "relevance" without words is "most shops" (what is offered most widely).
SORTS = {
    "relevance": "Best match",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "shops": "Most shops",
    "newest": "Newest",
}

# Listed: offered by some shop (the partial indexes' condition), with a price to show.
OFFERED = (MasterProduct.vendor_count > 0, MasterProduct.lowest_price.is_not(None))


@dataclass(frozen=True)
class CatalogQuery:
    """What a storefront URL asks for, with what could not be used said in ``notices``."""

    q: str = ""
    category: uuid.UUID | None = None
    brand: uuid.UUID | None = None
    sort: str = "relevance"
    page: int = 1
    notices: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: MultiDict) -> CatalogQuery:
        notices = []
        q = " ".join((args.get("q") or "").split())
        if len(q) > MAX_QUERY_LENGTH:
            q = q[:MAX_QUERY_LENGTH].strip()
            notices.append(f"The search was cut to its first {MAX_QUERY_LENGTH} characters.")
        sort = args.get("sort") or "relevance"
        if sort not in SORTS:
            notices.append("That sort order is not offered; showing the best matches.")
            sort = "relevance"
        category, problem = _id_arg(args.get("category"), "category")
        notices += problem
        brand, problem = _id_arg(args.get("brand"), "brand")
        notices += problem
        page_text = (args.get("page") or "1").strip()
        # A huge number is a page past the end (the search shows its last page), not an error.
        page = min(int(page_text), 10**9) if page_text.isascii() and page_text.isdigit() else None
        if page is None or page < 1:
            notices.append("That page number is not one; showing the first page.")
            page = 1
        return cls(q, category, brand, sort, page, tuple(notices))

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query-string parameters for this search (with ``changes``), defaults left out."""
        values: dict[str, Any] = {
            "q": self.q,
            "category": self.category,
            "brand": self.brand,
            "sort": None if self.sort == "relevance" else self.sort,
            "page": None if self.page == 1 else self.page,
        }
        values.update(changes)
        if values["page"] == 1:
            values["page"] = None
        return {k: v for k, v in values.items() if v not in (None, "")}

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.category or self.brand)


def _id_arg(text: str | None, noun: str) -> tuple[uuid.UUID | None, list[str]]:
    if not text:
        return None, []
    try:
        return uuid.UUID(text), []
    except ValueError:
        return None, [f"That {noun} is not one we know; showing every {noun}."]


@dataclass(frozen=True)
class Listing:
    """One master as the storefront lists it."""

    id: uuid.UUID
    name: str
    slug: str
    lowest_price: Decimal | None
    highest_price: Decimal | None
    vendor_count: int
    total_inventory: int
    brand: str | None
    category: str | None


@dataclass(frozen=True)
class Facet:
    id: uuid.UUID
    name: str
    count: int | None  # None: the result is too large to count by facet


@dataclass
class CatalogPage(Paged):
    query: CatalogQuery
    listings: list[Listing]
    page: int
    per_page: int
    total_rows: int
    #: The result went past ``max_results``: ``total_rows`` is the cap, the pager says "N+".
    capped: bool
    #: No master matched every word; these are names similar to the words.
    close_matches: bool
    categories: list[Facet]
    brands: list[Facet]
    notices: list[str] = field(default_factory=list)

    @property
    def count_label(self) -> str:
        return f"{self.total_rows:,}+" if self.capped else f"{self.total_rows:,}"

    def next_params(self) -> dict:
        return self.query.params(page=self.page + 1)

    def previous_params(self) -> dict:
        return self.query.params(page=self.page - 1)


def words(q: str) -> list[str]:
    """The search's words as the vector holds them: normalised, letters and digits only."""
    return _WORD.findall(normalize(q))[:MAX_WORDS]


def ts_query(found: list[str], model_codes: list[str] = ()) -> str:
    """``to_tsquery`` text: every word, the last as a prefix, or any model number typed
    (compacted: "KA-6589" is the words "ka" and "6589", and the code "ka6589"). Words and codes
    are ``[a-z0-9]+`` only, so nothing in them is tsquery syntax."""
    every_word = " & ".join([*found[:-1], found[-1] + ":*"])
    return " | ".join([f"({every_word})", *model_codes]) if model_codes else every_word


def search_catalog(query: CatalogQuery, *, per_page: int, max_results: int) -> CatalogPage:
    """The page of the storefront ``query`` asks for (see the module's docstring)."""
    notices = list(query.notices)
    # A plan for these words, not the generic one: the portal keeps its prepared statements
    # (portal/read_requests.py), and a generic plan cannot know how many masters match the
    # words, which decides between the full-text index and walking a sort's index. A generic
    # plan made "headphones" cost the server 39 ms of CPU a request (docs/performance.md).
    db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    query, unknown = _known_filters(query)
    notices += unknown
    found = words(query.q)
    if query.q and not found:
        notices.append("The search has no letters or digits to look for; showing everything.")
    base: list[Any] = [*OFFERED]
    if query.category:
        base.append(MasterProduct.category_id == query.category)
    if query.brand:
        base.append(MasterProduct.brand_id == query.brand)
    close = False
    ranked = None  # the relevance ranking's candidates (SQL), when the words decide the order
    candidates: list[Any] | None = None  # close matches, ordered here
    asked_offset = (query.page - 1) * per_page
    if found:
        # Given as tsquery text, not to_tsquery(...): PostgreSQL then reads it once, where the
        # function ran again for every ranked row (a third of the ranking's time). The words are
        # already what the 'simple' configuration would make of them.
        tsquery = sa.cast(ts_query(found, _typed_codes(query.q)), TSQUERY)
        matched = [*base, MasterProduct.storefront_vector.op("@@")(tsquery)]
        if query.sort == "relevance":
            ranked = _ranked(base, matched, tsquery, query.q, max_results)
            ids, total, capped = _ranked_ids(ranked, max_results, asked_offset, per_page)
        else:
            total = _capped_count(matched, max_results)
            capped = total > max_results
        if not total:
            close, ranked = True, None
            candidates, capped = _close_matches(base, " ".join(found)), False
            total = len(candidates)
        conditions = matched
    else:
        conditions = base
        total = _capped_count(conditions, max_results)
        capped = total > max_results
    total = min(total, max_results)
    page = _page_within(query, total, per_page, max_results, notices)
    query = CatalogQuery(query.q, query.category, query.brand, query.sort, page)
    offset = (page - 1) * per_page
    shown = max(0, min(per_page, total - offset))  # the last page of a capped list stops at it
    if ranked is not None:
        if (offset, shown) != (asked_offset, per_page):
            ids, _, _ = _ranked_ids(ranked, max_results, offset, shown)
        listings = _listings_by_id(ids)
    elif candidates is not None:
        ordered = sorted(candidates, key=_SORT_KEYS[query.sort])
        listings = _listings_by_id([row.id for row in ordered[offset : offset + shown]])
    else:
        listings = _listings(conditions, _order(query.sort), shown, offset) if shown else []
    if capped:
        counts = None
    elif candidates is not None:
        counts = _counted(candidates)
    else:
        counts = _grouped(conditions)
    categories = _named(ProductCategory, counts and counts[0], query.category)
    brands = _named(Brand, counts and counts[1], query.brand)
    return CatalogPage(
        query=query,
        listings=listings,
        page=page,
        per_page=per_page,
        total_rows=total,
        capped=capped,
        close_matches=close,
        categories=categories,
        brands=brands,
        notices=notices,
    )


def _page_within(query, total: int, per_page: int, max_results: int, notices: list[str]) -> int:
    """The page asked for, or the last one with a notice when it is past the end."""
    pages = page_count(total, per_page)
    if query.page <= pages:
        return query.page
    if total >= max_results:
        notices.append(
            f"A list goes {max_results:,} products deep; showing its last page. "
            "Narrow the search to see more."
        )
    else:
        notices.append(f"There is no page {query.page:,} of this list; showing its last page.")
    return pages


def _known_filters(query: CatalogQuery) -> tuple[CatalogQuery, list[str]]:
    """The query without a category or brand that does not exist (an old link, a typed id)."""
    notices = []
    category, brand = query.category, query.brand
    if category and db.session.get(ProductCategory, category) is None:
        category = None
        notices.append("That category is not one we know; showing every category.")
    if brand and db.session.get(Brand, brand) is None:
        brand = None
        notices.append("That brand is not one we know; showing every brand.")
    return CatalogQuery(query.q, category, brand, query.sort, query.page), notices


def _typed_codes(typed: str) -> list[str]:
    """The model numbers in the search, compacted as ``model_codes`` holds them."""
    return sorted(codes(normalize(typed)))[:MAX_WORDS]


def _candidate_columns(rank) -> list[Any]:
    return [
        MasterProduct.id,
        rank.label("rank"),
        MasterProduct.vendor_count,
        MasterProduct.lowest_price,
        MasterProduct.created_at,
        MasterProduct.category_id,
        MasterProduct.brand_id,
    ]


def _ranked(base, matched, tsquery, typed: str, cap: int):
    """The matches to rank, with their ranks: a subquery of (id, rank, vendor_count, hit).

    Ranking reads every ranked row's vector, so at most ``cap + 1`` matches are ranked, as the
    index hands them out (``hit``); the masters whose name is the search or which have a model
    number typed are added whatever their place, so they are never among those left out.
    """
    typed_name, typed_codes = normalize(typed), _typed_codes(typed)
    phrase = " ".join(words(typed))
    rank = (
        sa.func.ts_rank(MasterProduct.storefront_vector, tsquery, 1)
        + sa.case((MasterProduct.normalized_name == typed_name, EXACT_NAME_BONUS), else_=0)
        + sa.case(
            (MasterProduct.normalized_name.startswith(phrase, autoescape=True), NAME_PREFIX_BONUS),
            else_=0,
        )
    )
    exact = MasterProduct.normalized_name == typed_name
    if typed_codes:
        has_code = MasterProduct.model_codes.op("&&")(
            sa.cast(sa.literal(typed_codes), MasterProduct.model_codes.type)
        )
        rank = rank + sa.case((has_code, MODEL_NUMBER_BONUS), else_=0)
        exact = sa.or_(exact, has_code)
    columns = (MasterProduct.id, rank.label("rank"), MasterProduct.vendor_count)
    hits = sa.select(*columns, sa.true().label("hit")).where(*matched).limit(cap + 1)
    sure = sa.select(*columns, sa.false().label("hit")).where(*base, exact)
    both = sa.union_all(hits, sure).subquery("both")
    # One row per master: a hit's own row wins over the same master found as sure.
    return (
        sa.select(both)
        .distinct(both.c.id)
        .order_by(both.c.id, both.c.hit.desc())
        .subquery("candidates")
    )


def _ranked_ids(ranked, cap: int, offset: int, limit: int) -> tuple[list[uuid.UUID], int, bool]:
    """One page of the ranked candidates, best first, the number of candidates, and whether the
    index had more than ``cap`` matches. The counts ride on the page's rows (window functions);
    a page past the end asks once more, for them alone."""
    counted = sa.select(
        ranked.c.id,
        sa.func.count().over().label("total"),
        sa.func.count().filter(ranked.c.hit).over().label("hits"),
    ).order_by(ranked.c.rank.desc(), ranked.c.vendor_count.desc(), ranked.c.id.desc())
    rows = db.session.execute(counted.limit(max(limit, 1)).offset(offset)).all()
    if not rows and offset:
        rows, limit = db.session.execute(counted.limit(1)).all(), 0
    if not rows:
        return [], 0, False
    return [row.id for row in rows[:limit]], rows[0].total, rows[0].hits > cap


def _close_matches(base, phrase: str) -> list[Any]:
    """Names similar to the words (trigram word similarity), when nothing matched every word."""
    db.session.execute(
        # The <% operator (and its trigram index) reads its threshold from this setting, local
        # to the transaction.
        sa.select(
            sa.func.set_config("pg_trgm.word_similarity_threshold", str(SIMILARITY_THRESHOLD), True)
        )
    )
    rank = sa.func.word_similarity(phrase, MasterProduct.normalized_name)
    return db.session.execute(
        sa.select(*_candidate_columns(rank))
        .where(*base, sa.literal(phrase).op("<%")(MasterProduct.normalized_name))
        .limit(CLOSE_MATCHES)
    ).all()


def _descending(value: uuid.UUID) -> int:
    return -value.int


# The sorts of rows ranked in Python; the same orders as ``_order``, ties broken by id.
_SORT_KEYS = {
    "relevance": lambda r: (-r.rank, -r.vendor_count, _descending(r.id)),
    "price": lambda r: (r.lowest_price, r.id.int),
    "-price": lambda r: (-r.lowest_price, _descending(r.id)),
    "shops": lambda r: (-r.vendor_count, _descending(r.id)),
    "newest": lambda r: (-r.created_at.timestamp(), _descending(r.id)),
}


def _order(sort: str) -> list[Any]:
    """ORDER BY for a sort; each is the order of one of the offered masters' indexes (read
    forwards or backwards), ``id`` breaking ties so pages never repeat or skip a master.
    "Best match" without words is "most shops"."""
    if sort == "price":
        return [MasterProduct.lowest_price.asc(), MasterProduct.id.asc()]
    if sort == "-price":
        return [MasterProduct.lowest_price.desc(), MasterProduct.id.desc()]
    if sort == "newest":
        return [MasterProduct.created_at.desc(), MasterProduct.id.desc()]
    return [MasterProduct.vendor_count.desc(), MasterProduct.id.desc()]


def _capped_count(conditions: list[Any], cap: int) -> int:
    """How many masters match, counting no further than ``cap + 1``."""
    limited = sa.select(sa.literal(1)).select_from(MasterProduct).where(*conditions).limit(cap + 1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(limited.subquery()))


_LISTING_COLUMNS = (
    MasterProduct.id,
    MasterProduct.name,
    MasterProduct.slug,
    MasterProduct.lowest_price,
    MasterProduct.highest_price,
    MasterProduct.vendor_count,
    MasterProduct.total_inventory,
    Brand.name.label("brand"),
    ProductCategory.name.label("category"),
)


def _with_names(statement: sa.Select) -> sa.Select:
    return statement.outerjoin(Brand, Brand.id == MasterProduct.brand_id).outerjoin(
        ProductCategory, ProductCategory.id == MasterProduct.category_id
    )


def _listings(conditions: list[Any], order: list[Any], limit: int, offset: int) -> list[Listing]:
    # The page's ids first, from the sort's index alone; only those rows are then read whole.
    ids = db.session.scalars(
        sa.select(MasterProduct.id).where(*conditions).order_by(*order).limit(limit).offset(offset)
    ).all()
    return _listings_by_id(list(ids))


def _listings_by_id(ids: list[uuid.UUID]) -> list[Listing]:
    if not ids:
        return []
    statement = _with_names(sa.select(*_LISTING_COLUMNS).where(MasterProduct.id.in_(ids)))
    found = {row.id: Listing(**row._asdict()) for row in db.session.execute(statement)}
    return [found[i] for i in ids if i in found]


Counts = tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]


def _counted(rows: list[Any]) -> Counts:
    categories: dict[uuid.UUID, int] = {}
    brands: dict[uuid.UUID, int] = {}
    for row in rows:
        if row.category_id:
            categories[row.category_id] = categories.get(row.category_id, 0) + 1
        if row.brand_id:
            brands[row.brand_id] = brands.get(row.brand_id, 0) + 1
    return categories, brands


def _grouped(conditions: list[Any]) -> Counts:
    """Masters by category and by brand (one statement, two grouping sets)."""
    grouped = db.session.execute(
        sa.select(MasterProduct.category_id, MasterProduct.brand_id, sa.func.count())
        .where(*conditions)
        .group_by(sa.func.grouping_sets(MasterProduct.category_id, MasterProduct.brand_id))
    ).all()
    # Each grouping set leaves the other column NULL; masters without a brand (category) group
    # under (NULL, NULL), which is dropped: there is no filter to choose for them.
    categories = {c: n for c, b, n in grouped if c is not None and b is None}
    brands = {b: n for c, b, n in grouped if b is not None and c is None}
    return categories, brands


def _named(model, counts: dict | None, chosen: uuid.UUID | None) -> list[Facet]:
    """The categories (brands) to filter by: those counted, with their counts, or every one
    when the result was too large to count (the chosen one always among them)."""
    statement = sa.select(model.id, model.name).order_by(model.name, model.id)
    if counts is not None:
        wanted = set(counts) | ({chosen} if chosen else set())
        if not wanted:
            return []
        statement = statement.where(model.id.in_(wanted))
    return [
        Facet(id, name, None if counts is None else counts.get(id, 0))
        for id, name in db.session.execute(statement)
    ]
