import pytest

from tests.factories import make_admin
from tests.payouts.conftest import app_stripe, local_stripe, local_stripe_factory  # noqa: F401  (fixtures)


@pytest.fixture
def admin(db_session, auth):
    """A signed-in admin (the test files of the older admin pages keep their own)."""
    user = make_admin(email="boss@example.com")
    auth.login(user.email)
    return user
