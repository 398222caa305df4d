import pytest

from tests.storefront.helpers import Catalog


@pytest.fixture
def catalog(db_session):
    return Catalog()
