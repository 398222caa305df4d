"""Fixtures for the tier tests."""

from __future__ import annotations

import pytest

from tests.factories import make_admin


@pytest.fixture
def admin(db_session):
    return make_admin()
