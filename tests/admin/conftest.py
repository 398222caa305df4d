import pytest

from tests.payouts.conftest import app_stripe, local_stripe, local_stripe_factory  # noqa: F401  (fixtures)
from tests.second_factor import verified_admin


@pytest.fixture
def admin(db_session, client):
    """A signed-in admin who proved the second factor, so money actions run (the test files of
    the older admin pages keep their own)."""
    return verified_admin(client, "boss@example.com")
