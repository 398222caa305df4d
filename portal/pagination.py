"""Page numbers for the lists that HTMX pages through."""

from __future__ import annotations


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
