"""Debian's headless Chromium, driven by Playwright, against the live portal (``live_server``)."""

from __future__ import annotations

import os
import shutil

import pytest

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
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}


def sign_in(page, base: str, email: str, *, lands_on: str | None = None) -> None:
    """Sign in through the real form; with ``lands_on``, wait for that page."""
    from tests.factories import PASSWORD

    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if lands_on:
        page.wait_for_url(f"{base}{lands_on}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    os.makedirs("test-artifacts", exist_ok=True)  # screenshots, for a person to look at

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(scripts/test.sh does)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
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
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.console_errors = errors
        return page

    yield new_page
    for context in contexts:
        context.close()


# --- the walk of every page (tests/browser/walk.py), for the walking and keyboard tests ---------


@pytest.fixture
def mail_folder(app, tmp_path):
    """Mail goes to a folder, so the admin's sent-mail pages have a message to show."""
    saved = {key: app.config[key] for key in ("MAIL_BACKEND", "MAIL_FOLDER")}
    app.config.update(MAIL_BACKEND="file", MAIL_FOLDER=str(tmp_path))
    yield tmp_path
    app.config.update(saved)


@pytest.fixture
def walker(app, live_server, committed, browser, mail_folder):
    from tests.browser import walk  # walk.py reads this module's screen sizes

    world = walk.seed(committed)
    walker = walk.Walker(browser, live_server, world)
    yield walker
    walker.close()
