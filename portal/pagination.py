"""Paging for the lists that HTMX pages through.

Two kinds:

- numbered pages (``Paged``) for lists bounded by what a shop *has* now (its products, the admin's
  shops), where an exact count is cheap;
- keyset pages (``KeysetPage``) for lists that grow with a shop's *history* (orders, commission
  records): each page is read from the index after (or before) the last row of the page seen, so a
  page costs the same at the start of a history of 50,000 rows as deep inside it, and the pager says
  "1,000+" instead of counting the whole history (``capped_count``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .clock import as_utc
from .extensions import db

#: The largest count a keyset list states exactly; above it the pager says "1,000+".
COUNT_CAP = 1000


def page_count(total_rows: int, per_page: int) -> int:
    return max(1, -(-total_rows // per_page))


def clamp_page(page: int, total_rows: int, per_page: int) -> int:
    """A requested page number brought within 1..last (a stale link past the end shows the last)."""
    return max(1, min(page, page_count(total_rows, per_page)))


class Paged:
    """Mixin for a page of results; the class provides ``page``, ``per_page`` and ``total_rows``."""

    page: int
    per_page: int
    total_rows: int

    @property
    def pages(self) -> int:
        return page_count(self.total_rows, self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def count_label(self) -> str:
        return f"{self.total_rows:,}"

    def next_params(self) -> dict:
        return {"page": self.page + 1}

    def previous_params(self) -> dict:
        return {"page": self.page - 1}

    @property
    def position_label(self) -> str:
        return f"page {self.page} of {self.pages}"


@dataclass(frozen=True)
class Cursor:
    """A row's place in a newest-first list: its time, then its id to break ties."""

    created_at: datetime
    id: uuid.UUID

    def token(self) -> str:
        return f"{self.created_at.isoformat()}_{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor in a link, or None for a missing or malformed one (the first page)."""
        if not text or len(text) > 80:
            return None
        stamp, _, ident = text.partition("_")
        try:
            moment = datetime.fromisoformat(stamp)
            return cls(as_utc(moment), uuid.UUID(ident))
        except ValueError:
            return None


@dataclass(frozen=True)
class PageRequest:
    """Which keyset page a link asks for: rows older than ``before``, or newer than ``after``."""

    before: Cursor | None = None
    after: Cursor | None = None

    @classmethod
    def from_args(cls, args) -> PageRequest:
        return cls(Cursor.parse(args.get("before")), Cursor.parse(args.get("after")))


def keyset_rows(query: sa.Select, time_column, id_column, request: PageRequest, per_page: int):
    """One page of ``query`` newest first, plus whether there are newer and older rows.

    The comparison is on ``(time, id)``, the order the list is shown in, so ties on the time never
    skip or repeat a row. Reading newer rows runs the index the other way and flips the page.
    Returns ``(rows, has_newer, has_older)``.
    """
    if request.after is not None:
        after = request.after
        rows = db.session.execute(
            query.where(sa.tuple_(time_column, id_column) > (after.created_at, after.id))
            .order_by(time_column.asc(), id_column.asc())
            .limit(per_page + 1)
        ).all()
        has_newer = len(rows) > per_page
        return list(reversed(rows[:per_page])), has_newer, True
    if request.before is not None:
        before = request.before
        query = query.where(sa.tuple_(time_column, id_column) < (before.created_at, before.id))
    rows = db.session.execute(
        query.order_by(time_column.desc(), id_column.desc()).limit(per_page + 1)
    ).all()
    has_older = len(rows) > per_page
    return rows[:per_page], request.before is not None, has_older


def ends(rows, id_attribute: str = "id") -> tuple[Cursor | None, Cursor | None]:
    """The cursors of a page's first and last rows (objects or rows with ``created_at`` and an
    id), which the pager's newer and older links carry."""
    if not rows:
        return None, None
    first, last = rows[0], rows[-1]
    return (
        Cursor(first.created_at, getattr(first, id_attribute)),
        Cursor(last.created_at, getattr(last, id_attribute)),
    )


def capped_count(query: sa.Select, cap: int = COUNT_CAP) -> int:
    """How many rows ``query`` has, counting no further than ``cap + 1`` (the index stops there)."""
    limited = query.with_only_columns(sa.literal(1)).order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(limited))


class KeysetPage:
    """Mixin for a keyset page; the class provides ``total_rows`` (exact or capped),
    ``has_newer``, ``has_older``, ``first`` and ``last`` (the cursors of the page's ends)."""

    total_rows: int
    has_newer: bool
    has_older: bool
    first: Cursor | None
    last: Cursor | None
    #: True when ``total_rows`` comes from a kept count rather than ``capped_count``.
    count_is_exact: bool = False

    @property
    def has_previous(self) -> bool:
        return self.has_newer

    @property
    def has_next(self) -> bool:
        return self.has_older

    @property
    def count_label(self) -> str:
        if self.total_rows > COUNT_CAP and not self.count_is_exact:
            return f"{COUNT_CAP:,}+"
        return f"{self.total_rows:,}"

    def previous_params(self) -> dict:
        return {"after": self.first.token()} if self.first else {}

    def next_params(self) -> dict:
        return {"before": self.last.token()} if self.last else {}

    @property
    def position_label(self) -> str:
        if not self.has_newer or self.first is None:
            return "newest first"
        return f"from {self.first.created_at:%d %b %Y} back"
