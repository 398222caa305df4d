"""Over real HTTP: a read that succeeds ends its transaction with COMMIT, so psycopg keeps the
statements it has prepared (docs/performance.md); a failed read rolls back."""

from __future__ import annotations

import contextlib
import re
import uuid

import requests
import sqlalchemy as sa

from portal.extensions import db
from tests.factories import PASSWORD, make_vendor

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@contextlib.contextmanager
def transaction_ends(app):
    """The ways the app's connections end their transactions while the block runs."""
    ends: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_commit(conn):
        ends.append("commit")

    def on_rollback(conn):
        ends.append("rollback")

    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "rollback", on_rollback)
    try:
        yield ends
    finally:
        sa.event.remove(engine, "commit", on_commit)
        sa.event.remove(engine, "rollback", on_rollback)


def _signed_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF.search(browser.get(base + "/login").text).group(1)
    response = browser.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 302
    return browser


def test_a_successful_read_commits_and_a_failed_one_rolls_back(app, live_server, committed):
    make_vendor(email="reader@example.com")
    committed.commit()
    browser = _signed_in(live_server, "reader@example.com")

    with transaction_ends(app) as ends:
        assert browser.get(live_server + "/vendor/").status_code == 200
    assert ends == ["commit"]

    with transaction_ends(app) as ends:
        missing = browser.get(f"{live_server}/vendor/orders/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert ends == ["rollback"]
