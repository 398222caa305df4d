"""The demo's catalog: overlapping listings matched by the pipeline into every outcome."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from portal.auth import services as accounts
from portal.seed.catalog import seed_catalog
from portal.seed.demo import _open_shops


def test_the_demo_catalog_has_exact_auto_waiting_and_new_masters(db_session):
    admin = accounts.create_admin("catalog-admin@example.com", "correct horse battery")
    shops = _open_shops(random.Random(1), opened=datetime(2026, 1, 1, tzinfo=UTC))
    counts = seed_catalog(random.Random(2), shops, admin)
    assert counts["exact"] >= 2 and counts["auto"] >= 1
    assert counts["waiting"] >= 1 and counts["new_masters"] >= 8
