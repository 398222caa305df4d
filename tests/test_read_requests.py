"""Over real HTTP: a read that succeeds ends its transaction with COMMIT, so psycopg keeps the
statements it has prepared (docs/performance.md); a failed read rolls back."""

from __future__ import annotations

import contextlib
import uuid

import sqlalchemy as sa

from portal.extensions import db
from tests.factories import make_vendor
from tests.http_browser import signed_in


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


def test_a_successful_read_commits_and_a_failed_one_rolls_back(app, live_server, committed):
    make_vendor(email="reader@example.com")
    committed.commit()
    browser = signed_in(live_server, "reader@example.com")

    with transaction_ends(app) as ends:
        assert browser.get(live_server + "/vendor/").status_code == 200
    assert ends == ["commit"]

    with transaction_ends(app) as ends:
        missing = browser.get(f"{live_server}/vendor/orders/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert ends == ["rollback"]
