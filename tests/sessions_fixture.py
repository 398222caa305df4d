"""Flask-Login caches the signed-in user in ``g``. A test's one app context outlives each
request, so without this a second client would see the first one's user; a real server starts
every request with a fresh ``g``."""

import pytest
from flask import g, request_started


def _forget_signed_in_user(sender, **extra):
    g.pop("_login_user", None)


@pytest.fixture(autouse=True)
def _fresh_login_per_request(app):
    request_started.connect(_forget_signed_in_user, app)
    yield
    request_started.disconnect(_forget_signed_in_user, app)
