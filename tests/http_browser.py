"""A signed-in HTTP client for tests against the live server (real sockets, a new app context
per request, as under gunicorn)."""

from __future__ import annotations

import re

import requests

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def signed_in(base: str, email: str, password: str = PASSWORD) -> requests.Session:
    """A ``requests`` session signed in through the real sign-in form."""
    browser = requests.Session()
    token = CSRF.search(browser.get(base + "/login").text).group(1)
    response = browser.post(
        base + "/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 302
    return browser
