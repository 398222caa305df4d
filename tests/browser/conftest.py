"""A live portal on a free local port, driven by Debian's headless Chromium through Playwright.

The browser cannot see a rolled-back test transaction, so these tests commit for real and empty
every table afterwards.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from portal.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}


def empty_all_tables() -> None:
    tables = db.session.scalars(
        sa.text(
            "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND c.relname NOT IN ('alembic_version', 'spatial_ref_sys')"
        )
    ).all()
    db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    db.session.commit()


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


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    os.makedirs("test-artifacts", exist_ok=True)  # screenshots, for a person to look at

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (scripts/test.sh does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_factory(browser):
    contexts = []

    def new_page(device=LAPTOP):
        context = browser.new_context(**device)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.console_errors = errors
        return page

    yield new_page
    for context in contexts:
        context.close()
