"""The admin review queue of the unified catalog: decisions on match proposals, merges, the
export of decisions to the benchmark layout, and the review page (``/admin/catalog/review``)."""
