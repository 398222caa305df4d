"""Test fixtures: a real PostgreSQL + PostGIS database built by the migrations, and a real Redis.

The test database is dropped, created and migrated once per run, so the Alembic chain is what the
tests exercise. Each test then runs inside a transaction that is rolled back at its end.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading

import psycopg
import pytest
import redis
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

os.environ.setdefault("PORTAL_ENV", "test")

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db, limiter
from tests.database import empty_all_tables


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to the maintenance database)."""
    parsed = make_url(url)
    admin_dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    from portal.operations.partitions import ensure_partitions

    with app.app_context():
        upgrade()
        ensure_partitions()
        db.session.commit()


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token with every unsafe request, as the pages do.

    CSRF stays on in tests; pass ``csrf=False`` to send a request without the token.
    """

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in {"GET", "HEAD", "OPTIONS"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    app = create_app(TestConfig)
    app.test_client_class = CsrfClient
    recreate_database(app.config["SQLALCHEMY_DATABASE_URI"])
    redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()
    migrate_to_head(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    """Bind the app's engine to one connection in a transaction, rolled back after the test."""
    with app.app_context():
        engines = db.engines
        originals = dict(engines)
        cleanup = []
        for key, engine in originals.items():
            connection = engine.connect()
            transaction = connection.begin()
            engines[key] = connection
            cleanup.append((connection, transaction))
        try:
            yield db.session
        finally:
            db.session.remove()
            for connection, transaction in cleanup:
                transaction.rollback()
                connection.close()
            engines.update(originals)


@pytest.fixture(autouse=True)
def _clean_rate_limits(app):
    with app.app_context():
        limiter.reset()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


class Auth:
    """Signs test users in and out through the real sign-in form."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = "correct horse battery"):
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


# --- a live server, for the browser and for HTTP-level tests ------------------------------------
# A browser or an HTTP client cannot see a rolled-back test transaction, so these tests commit for
# real and every table is emptied afterwards.


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            empty_all_tables()


@pytest.fixture
def committed(app):
    """An app context whose changes are committed (and emptied again by ``live_server``)."""
    with app.app_context():
        yield db.session


@pytest.fixture
def restore_signals():
    # The worker installs its own SIGINT/SIGTERM handlers in this process; put pytest's back.
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture
def verified_admin(client):
    """An admin signed in on ``client`` who proved the second factor (money actions run)."""
    from tests.second_factor import verified_admin as sign_in

    return sign_in(client, "boss@example.com")
