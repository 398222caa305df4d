"""The operations page in Chromium: run a job now and watch its row follow it without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.queues import get_redis, prefixed_queue_name
from tests.browser.conftest import LAPTOP, PHONE, sign_in
from tests.factories import make_admin
from tests.mailbox import _AppSimpleWorker

pytestmark = pytest.mark.browser


def test_run_now_and_the_row_follows_the_job(app, live_server, committed, page_factory):
    admin = make_admin()
    committed.commit()
    get_redis().flushdb()
    try:
        page = page_factory(LAPTOP)
        sign_in(page, live_server, admin.email)
        page.goto(f"{live_server}/admin/operations")
        row = page.locator("#job-analyze")
        expect(row).to_have_attribute("data-outcome", "none")
        page.evaluate("window.notReloaded = true")

        row.get_by_role("button", name="Run now: analyze").click()
        expect(row).to_have_attribute("data-outcome", "queued")
        expect(row.get_by_role("button", name="Run now: analyze")).to_be_disabled()

        # The worker takes it (here, in this process), and the polled row shows the outcome.
        _AppSimpleWorker([prefixed_queue_name("low", app)], app=app).work(burst=True)
        expect(row).to_have_attribute("data-outcome", "succeeded", timeout=10_000)
        assert page.evaluate("window.notReloaded") is True
        expect(row).to_contain_text("ANALYZE on")
        page.screenshot(path="test-artifacts/admin-operations.png", full_page=True)
        assert page.console_errors == []

        phone = page_factory(PHONE)
        sign_in(phone, live_server, admin.email)
        phone.goto(f"{live_server}/admin/operations")
        expect(phone.locator("#job-analyze")).to_contain_text("succeeded")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        phone.screenshot(path="test-artifacts/admin-operations-phone.png", full_page=True)
    finally:
        get_redis().flushdb()
