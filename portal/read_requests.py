"""How a request that only read ends its database transaction.

A read that succeeded ends with COMMIT rather than the ROLLBACK the session's removal would send:
both end the transaction the same way when nothing was written, but psycopg forgets its prepared
statements on every ROLLBACK, so with it no statement of a page is ever prepared and PostgreSQL
parses and plans each one again on every request (docs/performance.md). A request that wrote, failed
or changed the session without committing keeps the rollback.
"""

from __future__ import annotations

from flask import Flask, Response, request

from .extensions import READ_METHODS, db


def end_clean_read(response: Response) -> Response:
    session = db.session()
    if (
        request.method in READ_METHODS
        and response.status_code < 400
        and not (session.new or session.dirty or session.deleted)
        and session.in_transaction()
    ):
        # Nothing was written, so nothing loaded needs expiring: a streamed body or a later
        # request of the same app context (the test client's) still reads the same objects.
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
    return response


def register(app: Flask) -> None:
    app.after_request(end_clean_read)
